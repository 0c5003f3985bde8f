package main

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp"
)

// The app's own users and sessions, as any SaaS has them before it has
// invitations: a users table, a signed session cookie, a sign-in page and
// a registration step.

const sessionCookie = "demo_session"

// user is who is signed in.
type user struct{ Email, Name string }

// signedIn reads the session cookie: the user's email, signed with the
// app's secret.
func (a *app) signedIn(r *http.Request) (user, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return user{}, false
	}
	dot := strings.LastIndexByte(c.Value, '.') // the signature is base64url: no dot
	if dot < 0 {
		return user{}, false
	}
	email, sig := c.Value[:dot], c.Value[dot+1:]
	if subtle.ConstantTimeCompare([]byte(sig), []byte(a.sign(email))) != 1 {
		return user{}, false
	}
	u := user{Email: email}
	if err := a.db.QueryRowContext(r.Context(), "SELECT name FROM users WHERE email = ?", email).Scan(&u.Name); err != nil {
		return user{}, false
	}
	return u, true
}

func (a *app) sign(email string) string {
	mac := hmac.New(sha256.New, a.secret)
	mac.Write([]byte("session " + email))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// login shows the sign-in form (GET) and signs in (POST), then goes to
// next when it is a path of this site.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	next := r.FormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	form := signIn{Next: next, Email: r.PostFormValue("email")}
	if r.Method == http.MethodPost {
		if a.checkPassword(r.Context(), form.Email, r.PostFormValue("password")) {
			email, _ := invitations.NormalizeEmail(form.Email)
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: email + "." + a.sign(email), Path: "/",
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		form.Problem = "That email and password do not match."
	}
	pageHeaders(w)
	_ = signInPage.Execute(w, form)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *app) checkPassword(ctx context.Context, email, password string) bool {
	email, err := invitations.NormalizeEmail(email)
	if err != nil {
		return false
	}
	var stored []byte
	if a.db.QueryRowContext(ctx, "SELECT password_hash FROM users WHERE email = ?", email).Scan(&stored) != nil || len(stored) != 48 {
		return false
	}
	key, err := pbkdf2.Key(sha256.New, password, stored[:16], 100_000, 32)
	return err == nil && subtle.ConstantTimeCompare(key, stored[16:]) == 1
}

func hashPassword(password string) []byte {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, _ := pbkdf2.Key(sha256.New, password, salt, 100_000, 32)
	return append(salt, key...)
}

// newUser is what the registration step collected.
type newUser struct{ Name, Password string }

// registerThen is InviteeConfig.Accept: the registration step first, then
// accept with what was entered.
func (a *app) registerThen(accept func(*http.Request, *invitationshttp.Acceptance, *newUser)) func(http.ResponseWriter, *http.Request, *invitationshttp.Acceptance) {
	return func(w http.ResponseWriter, r *http.Request, acc *invitationshttp.Acceptance) {
		if u, ok := a.registration(w, r, acc); ok {
			accept(r, acc, u)
		}
	}
}

// registration is the product's step before a new user accepts: a name, a
// password and the terms. It returns what was entered and true when the
// acceptance may go ahead; otherwise it has written the form. A signed-in
// invitee has nothing to enter.
func (a *app) registration(w http.ResponseWriter, r *http.Request, acc *invitationshttp.Acceptance) (*newUser, bool) {
	if acc.Email != "" {
		return nil, true
	}
	f := registrationForm{First: r.PostForm.Get("first_name"), Last: r.PostForm.Get("last_name"), Terms: r.PostForm.Get("terms") == "on"}
	if r.PostForm.Get("step") != "register" {
		f.First, f.Last, _ = strings.Cut(acc.Invitation.Name, " ")
		acc.Render(http.StatusOK, registrationPage, "", f)
		return nil, false
	}
	// Every problem at once, each beside its field, in the form's order.
	password := r.PostForm.Get("password")
	var errs invitationshttp.FieldErrors
	if strings.TrimSpace(f.First) == "" {
		errs = append(errs, invitationshttp.FieldError{Field: "first_name", Message: "Enter your first name."})
	}
	if strings.TrimSpace(f.Last) == "" {
		errs = append(errs, invitationshttp.FieldError{Field: "last_name", Message: "Enter your last name."})
	}
	if len(password) < 8 {
		errs = append(errs, invitationshttp.FieldError{Field: "password", Message: "Enter a password of at least 8 characters."})
	} else {
		// A good password is filled in again, so that a problem elsewhere
		// does not make the invitee type it twice (WCAG 3.3.7). It goes
		// back only to who sent it, on a page nobody caches.
		f.Password = password
	}
	if !f.Terms {
		errs = append(errs, invitationshttp.FieldError{Field: "terms", Message: "Accept the terms of service to join."})
	}
	if len(errs) > 0 {
		acc.RenderErrors(http.StatusUnprocessableEntity, registrationPage, errs, f)
		return nil, false
	}
	return &newUser{Name: strings.TrimSpace(f.First) + " " + strings.TrimSpace(f.Last), Password: password}, true
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// addMember makes the invitee a member of the account with the
// invitation's roles, creating their user first when they registered.
func (a *app) addMember(ctx context.Context, db execer, inv *invitations.Invitation, u *newUser) error {
	if u != nil {
		if _, err := db.ExecContext(ctx, "INSERT INTO users (email, name, password_hash) VALUES (?, ?, ?)",
			inv.Email, u.Name, hashPassword(u.Password)); err != nil {
			return err
		}
	}
	roles, _ := json.Marshal(inv.Roles)
	_, err := db.ExecContext(ctx, "INSERT INTO members (account_id, email, roles, joined_at) VALUES (?, ?, ?, ?)",
		inv.AccountID, inv.Email, string(roles), a.clock.Now().UTC().Format(time.RFC3339))
	return err
}

type signIn struct{ Next, Email, Problem string }

// registrationForm is the registration step's own data (Page.Data): what
// was entered, to fill in again.
type registrationForm struct {
	First, Last, Password string
	Terms                 bool
}

// style is the invitee-side pages' look, inline under the pages' CSP nonce.
const style = `body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1f2328;margin:0}
h1{font-size:1.4rem;margin:0 0 1rem}main{max-width:32rem;margin:4rem auto;background:#fff;border:1px solid #d8dde3;border-radius:8px;padding:2rem}
form{display:grid;gap:.9rem}.field{display:grid;gap:.25rem}input{font:inherit;padding:.45rem .6rem;border:1px solid #6e7781;border-radius:6px}
.check{display:flex;gap:.5rem;align-items:center}.problem{color:#b42318;margin:0}[aria-invalid=true]{border-color:#b42318;box-shadow:0 0 0 1px #b42318}
button{font:inherit;border-radius:6px;padding:.6rem 1.1rem;border:1px solid #2563eb;background:#2563eb;color:#fff;cursor:pointer}
@media (max-width:36rem){main{margin:0;border:0;border-radius:0;padding:1.25rem}}`

var signInPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Problem}}Error: {{end}}Sign in · Acme Inc.</title><link rel="stylesheet" href="/app.css"></head>
<body class="invitee"><main>
<h1>Sign in</h1>
{{with .Problem}}<p class="problem" id="sign-in-problem">{{.}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="next" value="{{.Next}}">
<label>Email <input name="email" type="email" value="{{.Email}}"{{if .Problem}} aria-invalid="true" aria-describedby="sign-in-problem" autofocus{{end}} autocomplete="username" required></label>
<label>Password <input name="password" type="password"{{if .Problem}} aria-invalid="true" aria-describedby="sign-in-problem"{{end}} autocomplete="current-password" required></label>
<button class="primary" type="submit">Sign in</button>
</form>
<p class="muted">Demo users: grace@acme.test / grace (admin of Acme Inc.), linus@example.com / linus (a user of Globex).</p>
</main></body></html>`))

var registrationPage = template.Must(template.New("register").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Errors}}Error: {{end}}Create your account · {{.AccountName}}</title><style nonce="{{.Nonce}}">` + style + `</style></head>
<body><main>
<h1>Create your account</h1>
<p>You are joining <strong>{{.AccountName}}</strong> as <strong>{{.Invitation.Email}}</strong>.</p>
<form method="post" action="{{.Action}}" novalidate>
{{.Hidden}}<input type="hidden" name="step" value="register">
<div class="field"><label for="first_name">First name</label>
<input id="first_name" name="first_name" value="{{.Data.First}}" autocomplete="given-name"{{.Errors.Attrs "first_name"}} required>
{{with .Errors.Message "first_name"}}<p class="problem" id="{{$.Errors.ID "first_name"}}">{{.}}</p>{{end}}</div>
<div class="field"><label for="last_name">Last name</label>
<input id="last_name" name="last_name" value="{{.Data.Last}}" autocomplete="family-name"{{.Errors.Attrs "last_name"}} required>
{{with .Errors.Message "last_name"}}<p class="problem" id="{{$.Errors.ID "last_name"}}">{{.}}</p>{{end}}</div>
<div class="field"><label for="password">Password (at least 8 characters)</label>
<input id="password" name="password" type="password" value="{{.Data.Password}}" autocomplete="new-password"{{.Errors.Attrs "password"}} minlength="8" required>
{{with .Errors.Message "password"}}<p class="problem" id="{{$.Errors.ID "password"}}">{{.}}</p>{{end}}</div>
<div class="field"><label class="check"><input id="terms" name="terms" type="checkbox"{{if .Data.Terms}} checked{{end}}{{.Errors.Attrs "terms"}} required> I accept the terms of service</label>
{{with .Errors.Message "terms"}}<p class="problem" id="{{$.Errors.ID "terms"}}">{{.}}</p>{{end}}</div>
<button type="submit">Create account and join</button>
</form></main></body></html>`))

// pageHeaders are the app's own pages' headers: no caching, no framing,
// only the app's own script and style.
func pageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}
