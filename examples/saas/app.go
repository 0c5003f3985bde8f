package main

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp"
	"github.com/invitekit/invitations/sqlstore"
)

// The demo has one account and one admin, Grace, signed in for good.
const (
	accountID   = "acme"
	accountName = "Acme Inc."
	adminEmail  = "grace@acme.test"
	adminName   = "Grace Hopper"
)

//go:embed static
var static embed.FS

// config is what main reads from its flags.
type config struct {
	db      *sql.DB    // SQLite, opened with _txlock=immediate
	baseURL string     // where the browser reaches the app, e.g. http://127.0.0.1:8080
	mailer  *smtpRelay // nil: mail only to the outbox panel
	secret  []byte
}

// app is the demo SaaS: the Users page, the admin API, the invitee page.
type app struct {
	db     *sql.DB
	store  *sqlstore.Store
	svc    *invitations.Service
	clock  *demoClock
	outbox *outbox
	mux    *http.ServeMux
}

func newApp(ctx context.Context, cfg config) (*app, error) {
	store, err := sqlstore.New(cfg.db, sqlstore.SQLite)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	if _, err := cfg.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS members (
		account_id TEXT NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL, roles TEXT NOT NULL,
		password_hash BLOB NOT NULL, joined_at TEXT NOT NULL, PRIMARY KEY (account_id, email))`); err != nil {
		return nil, err
	}
	a := &app{db: cfg.db, store: store, clock: &demoClock{}, outbox: &outbox{relay: cfg.mailer}, mux: http.NewServeMux()}
	if err := a.addMember(ctx, cfg.db, accountID, adminEmail, adminName, []string{"Admin"}, "grace"); err != nil && !strings.Contains(err.Error(), "UNIQUE") {
		return nil, err
	}
	a.svc, err = invitations.New(store, a.outbox, invitations.Config{
		Secret:    cfg.secret,
		AcceptURL: strings.TrimSuffix(cfg.baseURL, "/") + "/invitations/accept",
		Now:       a.clock.Now,
		// An invitation form is a known spam vector (sign up, then
		// "invite" thousands of strangers): 500 mails a day per account,
		// a minute between two mails of one invitation, 10,000 working
		// links per account.
		Limits: invitations.RecommendedLimits,
		IsMember: func(ctx context.Context, account, email string) (bool, error) {
			var n int
			err := cfg.db.QueryRowContext(ctx, "SELECT count(*) FROM members WHERE account_id = ? AND email = ?", account, email).Scan(&n)
			return n > 0, err
		},
	})
	if err != nil {
		return nil, err
	}
	admin, err := invitationshttp.NewAdmin(a.svc, invitationshttp.AdminConfig{
		Authorize: func(r *http.Request, account string) error {
			if account != accountID { // a real app checks its session here
				return errors.New("not an admin of this account")
			}
			*r = *r.WithContext(invitations.WithActor(r.Context(), adminEmail))
			return nil
		},
		InvitedBy: func(*http.Request) string { return adminName },
	})
	if err != nil {
		return nil, err
	}
	invitee, err := invitationshttp.NewInvitee(a.svc, invitationshttp.InviteeConfig{SignInURL: "/", Accept: a.register})
	if err != nil {
		return nil, err
	}
	assets, _ := fs.Sub(static, "static")
	a.mux.Handle("/", pageHeaders(http.FileServerFS(assets)))
	a.mux.Handle("/api/", http.StripPrefix("/api", admin))
	a.mux.Handle("/invitations/accept", invitee)
	a.mux.HandleFunc("GET /demo/members", a.members)
	a.mux.HandleFunc("GET /demo/outbox", a.outbox.serve)
	a.mux.HandleFunc("GET /demo/clock", a.showClock)
	a.mux.Handle("POST /demo/clock", http.NewCrossOriginProtection().Handler(http.HandlerFunc(a.advanceClock)))
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// deliverLoop runs DeliverDue every interval until ctx ends, as a host
// schedules it: it sends what bulk invitations left due, and retries what
// failed.
func (a *app) deliverLoop(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := a.svc.DeliverDue(ctx); err != nil && ctx.Err() == nil {
				log.Printf("delivering due mail: %v", err)
			}
		}
	}
}

// pageHeaders: the Users page is read-only and runs only its own script
// and style.
func pageHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// register is the product's step before accepting: the invitee picks a
// name and a password and agrees to the terms; then the acceptance and
// the new member commit together, or not at all.
func (a *app) register(w http.ResponseWriter, r *http.Request, acc *invitationshttp.Acceptance) {
	inv := acc.Invitation
	first, last, _ := strings.Cut(inv.Name, " ")
	form := registration{Hidden: acc.Hidden(), AccountName: inv.AccountName(), Email: inv.Email,
		First: r.PostForm.Get("first_name"), Last: r.PostForm.Get("last_name")}
	if r.PostForm.Get("step") != "register" {
		form.First, form.Last = first, last
		renderRegistration(w, http.StatusOK, form)
		return
	}
	password := r.PostForm.Get("password")
	switch {
	case strings.TrimSpace(form.First) == "" || strings.TrimSpace(form.Last) == "":
		form.Problem = "Please enter your first and last name."
	case len(password) < 8:
		form.Problem = "Your password needs at least 8 characters."
	case r.PostForm.Get("terms") != "on":
		form.Problem = "Please accept the terms of service."
	}
	if form.Problem != "" {
		renderRegistration(w, http.StatusUnprocessableEntity, form)
		return
	}
	ctx := r.Context()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		acc.Fail(http.StatusServiceUnavailable, "Please try again in a moment.")
		return
	}
	defer tx.Rollback()
	accepted, err := a.svc.InTx(a.store.WithTx(tx)).Accept(ctx, acc.Token)
	if err == nil {
		err = a.addMember(ctx, tx, accepted.AccountID, accepted.Email, strings.TrimSpace(form.First+" "+form.Last), accepted.Roles, password)
		if err == nil {
			err = tx.Commit()
		}
		if err != nil { // the rollback leaves the invitation pending and the link working
			acc.Fail(http.StatusInternalServerError, "We could not create your account; your invitation still works.")
			return
		}
	}
	acc.Finish(accepted, err)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (a *app) addMember(ctx context.Context, db execer, account, email, name string, roles []string, password string) error {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, 100_000, 32)
	if err != nil {
		return err
	}
	rolesJSON, _ := json.Marshal(roles)
	_, err = db.ExecContext(ctx, "INSERT INTO members (account_id, email, name, roles, password_hash, joined_at) VALUES (?, ?, ?, ?, ?, ?)",
		account, email, name, string(rolesJSON), append(salt, key...), a.clock.Now().UTC().Format(time.RFC3339))
	return err
}

// members lists the account's people, for the Users page's Active rows.
func (a *app) members(w http.ResponseWriter, r *http.Request) {
	rows, err := a.db.QueryContext(r.Context(), "SELECT email, name, roles, joined_at FROM members WHERE account_id = ? ORDER BY joined_at DESC, email", accountID)
	if err != nil {
		http.Error(w, "members unavailable", http.StatusInternalServerError)
		return
	}
	defer rows.Close()
	type member struct {
		Email    string   `json:"email"`
		Name     string   `json:"name"`
		Roles    []string `json:"roles"`
		JoinedAt string   `json:"joined_at"`
	}
	out := []member{}
	for rows.Next() {
		var m member
		var roles string
		if err := rows.Scan(&m.Email, &m.Name, &roles, &m.JoinedAt); err != nil {
			http.Error(w, "members unavailable", http.StatusInternalServerError)
			return
		}
		_ = json.Unmarshal([]byte(roles), &m.Roles)
		out = append(out, m)
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// demoClock is the Service's clock, with a demo-only control to jump
// ahead (show expiry without waiting a week).
type demoClock struct{ offset atomic.Int64 }

func (c *demoClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (a *app) showClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{"now": a.clock.Now().UTC().Format(time.RFC3339Nano)})
}

func (a *app) advanceClock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Days    int `json:"days"`
		Minutes int `json:"minutes"`
	}
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1024)).Decode(&body)
	if err != nil || body.Days < 0 || body.Days > 60 || body.Minutes < 0 || body.Minutes > 60 || body.Days+body.Minutes == 0 {
		http.Error(w, "days must be 0 to 60 and minutes 0 to 60, not both 0", http.StatusBadRequest)
		return
	}
	a.clock.offset.Add(int64(time.Duration(body.Days)*24*time.Hour + time.Duration(body.Minutes)*time.Minute))
	a.showClock(w, r)
}

// outbox keeps every message for the page's outbox panel, and relays it
// to an SMTP server when one was given.
type outbox struct {
	mu    sync.Mutex
	mails []mail
	relay *smtpRelay
}

type mail struct {
	Kind    string    `json:"kind"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	Link    string    `json:"link"`
	SentAt  time.Time `json:"sent_at"`
}

func (o *outbox) Send(ctx context.Context, msg invitations.Message) error {
	if o.relay != nil {
		if err := o.relay.Send(ctx, msg); err != nil {
			return err
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mails = append(o.mails, mail{Kind: string(msg.Kind), To: msg.To, Subject: msg.Subject, Text: msg.Text, Link: msg.Link, SentAt: time.Now().UTC()})
	return nil
}

// last is the newest message.
func (o *outbox) last() mail {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.mails) == 0 {
		return mail{}
	}
	return o.mails[len(o.mails)-1]
}

// serve lists the outbox, newest first. The links are secrets: this panel
// is a demo's stand-in for the invitee's inbox.
func (o *outbox) serve(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	out := slices.Clone(o.mails)
	o.mu.Unlock()
	slices.Reverse(out)
	writeJSON(w, out)
}

// registration is the form shown before accepting.
type registration struct {
	Hidden      template.HTML
	AccountName string
	Email       string
	First, Last string
	Problem     string
}

var registrationPage = template.Must(template.New("register").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Join {{.AccountName}}</title>
<link rel="stylesheet" href="/app.css"></head>
<body class="invitee"><main class="card">
<h1>Create your account</h1>
<p>You are joining <strong>{{.AccountName}}</strong> as <strong>{{.Email}}</strong>.</p>
{{with .Problem}}<p class="problem" role="alert">{{.}}</p>{{end}}
<form method="post" action="/invitations/accept" class="stack">
{{.Hidden}}<input type="hidden" name="step" value="register">
<label>First name <input name="first_name" value="{{.First}}" required></label>
<label>Last name <input name="last_name" value="{{.Last}}" required></label>
<label>Password <input name="password" type="password" minlength="8" required></label>
<label class="check"><input name="terms" type="checkbox"> I accept the terms of service</label>
<button class="primary" type="submit">Create account and join</button>
</form></main></body></html>`))

func renderRegistration(w http.ResponseWriter, status int, form registration) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := registrationPage.Execute(w, form); err != nil {
		fmt.Fprint(w, "registration page unavailable")
	}
}
