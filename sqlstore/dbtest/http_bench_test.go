package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/internal/servers"
	"github.com/invitekit/invitations/invitationshttp"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

// BenchmarkHTTP compares the admin list endpoint (a 50-row page, as JSON)
// and the invitee page (GET) with the Service calls behind them, on
// SQLite and PostgreSQL: the overhead of routing, authorization, JSON or
// the template, and the headers. It lives here, beside the drivers, rather
// than in invitationshttp, whose module must not require them.
func BenchmarkHTTP(b *testing.B) {
	b.Run("SQLite", func(b *testing.B) {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "bench.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchHTTP(b, db, sqlstore.SQLite)
	})
	b.Run("Postgres", func(b *testing.B) {
		db, err := sql.Open("pgx", servers.PostgresDSN(b))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchHTTP(b, db, sqlstore.Postgres)
	})
}

func benchHTTP(b *testing.B, db *sql.DB, dialect sqlstore.Dialect) {
	ctx := context.Background()
	table := fmt.Sprintf("bench_http_%d", time.Now().UnixNano())
	store, err := sqlstore.New(db, dialect, sqlstore.WithTable(table))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_, _ = db.Exec("DROP TABLE " + table)
		_, _ = db.Exec("DROP TABLE " + table + "_migrations")
	})
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	mailer := invitationstest.NewMailer()
	svc, err := invitations.New(store, mailer, invitations.Config{Secret: secret, AcceptURL: "https://app.example.com/invitations/accept"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 200 {
		if _, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: fmt.Sprintf("user%d@example.com", i),
			Roles: []string{"member"}, Metadata: map[string]string{invitations.MetadataAccountName: "Acme Inc."}}); err != nil {
			b.Fatal(err)
		}
	}
	token, err := invitationstest.TokenFromLink(mailer.Last().Link)
	if err != nil {
		b.Fatal(err)
	}
	admin, err := invitationshttp.NewAdmin(svc, invitationshttp.AdminConfig{Authorize: func(*http.Request, string) error { return nil }})
	if err != nil {
		b.Fatal(err)
	}
	page, err := invitationshttp.NewInvitee(svc, invitationshttp.InviteeConfig{})
	if err != nil {
		b.Fatal(err)
	}

	b.Run("List50/service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, err := svc.List(ctx, invitations.ListQuery{AccountID: "acme", Limit: 50}); err != nil || len(p.Invitations) != 50 {
				b.Fatal(err)
			}
		}
	})
	b.Run("List50/http", func(b *testing.B) {
		b.ReportAllocs()
		req := httptest.NewRequest("GET", "/accounts/acme/invitations?limit=50", nil)
		for b.Loop() {
			rec := httptest.NewRecorder()
			admin.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatal(rec.Code)
			}
		}
	})
	b.Run("InviteePage/service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.Lookup(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("InviteePage/http", func(b *testing.B) {
		b.ReportAllocs()
		req := httptest.NewRequest("GET", "/invitations/accept?token="+token, nil)
		for b.Loop() {
			rec := httptest.NewRecorder()
			page.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatal(rec.Code)
			}
		}
	})
}
