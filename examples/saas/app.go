package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/sqlstore"
)

// The demo's account, its admin, and a user of another account.
const (
	accountID   = "acme"
	accountName = "Acme Inc."
	adminEmail  = "grace@acme.test"
	adminName   = "Grace Hopper"
	otherEmail  = "linus@example.com" // a user of Globex, not of Acme
)

//go:embed static
var static embed.FS

// config is what main reads from its flags.
type config struct {
	db      *sql.DB    // SQLite, opened with _txlock=immediate
	baseURL string     // where the browser reaches the app, e.g. http://127.0.0.1:8080
	mailer  *smtpRelay // nil: mail only to the outbox panel
	secret  []byte
	every   time.Duration // how often the worker delivers due mail
}

// app is the demo SaaS: the Users page, the admin API, the invitee page.
type app struct {
	db     *sql.DB
	store  *sqlstore.Store
	svc    *invitations.Service
	clock  *demoClock
	outbox *outbox
	secret []byte // signs session cookies
	mux    *http.ServeMux
}

// schema is the app's own tables: accounts and their groups, users, and
// who is a member of which account.
const schema = `
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account_groups (account_id TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (account_id, name));
CREATE TABLE IF NOT EXISTS users (email TEXT PRIMARY KEY, name TEXT NOT NULL, password_hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS members (account_id TEXT NOT NULL, email TEXT NOT NULL, roles TEXT NOT NULL,
	joined_at TEXT NOT NULL, PRIMARY KEY (account_id, email));
INSERT OR IGNORE INTO accounts VALUES ('acme', 'Acme Inc.'), ('globex', 'Globex');
INSERT OR IGNORE INTO account_groups VALUES ('acme', 'Admin'), ('acme', 'Billing'), ('acme', 'Member'), ('globex', 'Member');`

func newApp(ctx context.Context, cfg config) (*app, error) {
	store, err := sqlstore.New(cfg.db, sqlstore.SQLite)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	if _, err := cfg.db.ExecContext(ctx, schema); err != nil {
		return nil, err
	}
	key := sha256.Sum256(append([]byte("demo session key "), cfg.secret...))
	a := &app{db: cfg.db, store: store, clock: &demoClock{}, outbox: &outbox{relay: cfg.mailer}, secret: key[:], mux: http.NewServeMux()}
	if err := a.seedUser(ctx, accountID, adminEmail, adminName, "Admin", "grace"); err != nil {
		return nil, err
	}
	if err := a.seedUser(ctx, "globex", otherEmail, "Linus Torvalds", "Member", "linus"); err != nil {
		return nil, err
	}
	if err := a.wire(ctx, cfg); err != nil {
		return nil, err
	}
	assets, _ := fs.Sub(static, "static")
	files := http.FileServerFS(assets)
	a.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if _, ok := a.signedIn(r); !ok && r.URL.Path == "/" {
			http.Redirect(w, r, "/login?next=/", http.StatusSeeOther)
			return
		}
		pageHeaders(w)
		w.Header().Del("Content-Type") // the file server sets it per file
		files.ServeHTTP(w, r)
	}))
	forms := http.NewCrossOriginProtection()
	a.mux.HandleFunc("GET /login", a.login)
	a.mux.Handle("POST /login", forms.Handler(http.HandlerFunc(a.login)))
	a.mux.Handle("POST /logout", forms.Handler(http.HandlerFunc(a.logout)))
	a.mux.HandleFunc("GET /demo/members", a.members)
	a.mux.HandleFunc("GET /demo/outbox", a.outbox.serve)
	a.mux.HandleFunc("GET /demo/clock", a.showClock)
	a.mux.Handle("POST /demo/clock", forms.Handler(http.HandlerFunc(a.advanceClock)))
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// seedUser creates a user who is a member of an account, once.
func (a *app) seedUser(ctx context.Context, account, email, name, group, password string) error {
	var n int
	if err := a.db.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE email = ?", email).Scan(&n); err != nil || n > 0 {
		return err
	}
	inv := &invitations.Invitation{AccountID: account, Email: email, Roles: []string{group}}
	return a.addMember(ctx, a.db, inv, &newUser{Name: name, Password: password})
}

// The app's data, as it has it without invitations: an account's groups
// and name, who is a member and who is an admin of it, who has a user.

func (a *app) groups(ctx context.Context, account string) ([]string, error) {
	rows, err := a.db.QueryContext(ctx, "SELECT name FROM account_groups WHERE account_id = ? ORDER BY name", account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

func (a *app) accountName(ctx context.Context, account string) (name string, err error) {
	return name, a.querier(ctx).QueryRowContext(ctx, "SELECT name FROM accounts WHERE id = ?", account).Scan(&name)
}

func (a *app) isMember(ctx context.Context, account, email string) (bool, error) {
	return a.exists(ctx, "SELECT 1 FROM members WHERE account_id = ? AND email = ?", account, email)
}

// adminOf is the signed-in user when they are an admin of the account;
// errNotSignedIn when nobody is signed in. The account ID is compared as a
// string, as the library hands it over.
func (a *app) adminOf(r *http.Request, account string) (user, error) {
	u, ok := a.signedIn(r)
	if !ok {
		return u, errNotSignedIn
	}
	admin, err := a.exists(r.Context(), `SELECT 1 FROM members WHERE account_id = ? AND email = ? AND roles LIKE '%"Admin"%'`, account, u.Email)
	if err == nil && !admin {
		err = errors.New("not an admin of this account")
	}
	return u, err
}

func (a *app) userExists(ctx context.Context, email string) (bool, error) {
	return a.exists(ctx, "SELECT 1 FROM users WHERE email = ?", email)
}

// txKey carries a request's transaction in its context, so that the
// app's queries (Config.IsMember among them) see the rows it wrote.
type txKey struct{}

// querier is the request's transaction when it carries one, else the pool.
func (a *app) querier(ctx context.Context) interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
} {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return tx
	}
	return a.db
}

// exists reports whether the query finds a row, in the request's
// transaction when it carries one.
func (a *app) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := a.querier(ctx).QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// members lists the account's people, for the Users page's Active rows.
func (a *app) members(w http.ResponseWriter, r *http.Request) {
	rows, err := a.db.QueryContext(r.Context(), `SELECT m.email, u.name, m.roles, m.joined_at FROM members m
		JOIN users u ON u.email = m.email WHERE m.account_id = ? ORDER BY m.joined_at DESC, m.email`, accountID)
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

// serve lists the outbox, newest first: [] before the first mail, never
// null. The links are secrets: this panel is a demo's stand-in for the
// invitee's inbox.
func (o *outbox) serve(w http.ResponseWriter, _ *http.Request) {
	o.mu.Lock()
	out := append([]mail{}, o.mails...)
	o.mu.Unlock()
	slices.Reverse(out)
	writeJSON(w, out)
}
