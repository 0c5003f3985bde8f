package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
)

// chromiumPath is Debian's chromium package; .ci/run installs it.
const chromiumPath = "/usr/bin/chromium"

// startApp serves the demo on a fresh SQLite file, on loopback.
func startApp(t *testing.T) (*app, string) {
	t.Helper()
	db, err := openDB(filepath.Join(t.TempDir(), "saas.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop) // the worker stops with the test
	a, err := newApp(ctx, config{db: db, baseURL: base, secret: []byte("browser test secret, 32 bytes or more"), every: 100 * time.Millisecond})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(a)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return a, base
}

// browser starts headless Chromium: without the sandbox (the tests run as
// root), without background networking (this machine's network is closed).
// It skips locally when Chromium is missing and fails in CI.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium is required in CI at %s (apt-get install chromium): %v", chromiumPath, err)
		}
		t.Skipf("no Chromium at %s; install Debian's chromium package to run the browser test", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// session is one browser tab on the demo, with helpers that fail the test.
type session struct {
	t    *testing.T
	ctx  context.Context
	shot int
}

func (s *session) do(steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	require.NoError(s.t, chromedp.Do(s.ctx, steps...))
}

// waitFor evaluates a JavaScript condition until it holds. It retries
// through errors too: after a click that submits a form, the page is
// being replaced and cannot be evaluated for a moment.
func (s *session) waitFor(what, expression string) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		var ok bool
		if ok, err = chromedp.Run(s.ctx, chromedp.Evaluate[bool](expression)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	body, _ := chromedp.Run(s.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	s.t.Fatalf("waiting for %s (last error: %v)\npage text:\n%s", what, err, body)
}

func (s *session) eval(expression string) string {
	s.t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Evaluate[string](expression))
	require.NoError(s.t, err, expression)
	return v
}

// screenshot saves what a person sees, as a test artifact
// (go test -artifacts keeps them; they are never committed), and runs
// axe-core on it: every state the story shows must pass.
func (s *session) screenshot(name string) {
	s.t.Helper()
	png, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100))
	require.NoError(s.t, err)
	s.shot++
	require.NoError(s.t, os.WriteFile(filepath.Join(s.t.ArtifactDir(), fmt.Sprintf("%02d-%s.png", s.shot, name)), png, 0o644))
	s.checkA11y(name)
}

// signIn fills the app's sign-in form, where the browser was sent to it.
func (s *session) signIn(email, password string) {
	s.t.Helper()
	s.waitFor("the sign-in form", `location.pathname === '/login' && document.querySelector('input[name=password]') !== null`)
	s.do(chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	s.waitFor("signed in", `location.pathname !== '/login'`)
}

// signOut signs out from the Users page's header.
func (s *session) signOut(base string) {
	s.t.Helper()
	s.do(chromedp.Navigate(base + "/"))
	s.waitFor("the Sign out button", `document.querySelector('.signout button') !== null`)
	s.do(chromedp.Click(chromedp.CSS(`.signout button`)))
	s.waitFor("signed out", `location.pathname === '/login'`)
}

func row(email string) string { return `tr[data-email="` + email + `"]` }

// menuItems opens a row's "•••" menu and lists its entries.
func (s *session) menuItems(email string) string {
	s.t.Helper()
	s.do(chromedp.Click(chromedp.CSS(row(email) + ` .menu > button`)))
	s.waitFor("the menu", `!document.querySelector('`+row(email)+` .menu ul').hidden`)
	return s.eval(`[...document.querySelectorAll('` + row(email) + ` .menu [role=menuitem]')].map(b => b.textContent).join('|')`)
}

func (s *session) choose(email, action string) {
	s.t.Helper()
	s.menuItems(email)
	s.do(chromedp.Click(chromedp.CSS(row(email) + ` button[data-action="` + action + `"]`)))
}

func (s *session) badge(email string) string {
	return s.eval(`document.querySelector('` + row(email) + ` .badge')?.textContent ?? ''`)
}

func js(s string) string { b, _ := json.Marshal(s); return string(b) }

// focusedOn is true when focus is on the "•••" of a row: where it must
// come back after the row's action or dialog.
func focusedOn(email string) string {
	return `document.activeElement?.matches('` + row(email) + ` .menu-toggle')`
}

// TestBrowserStory is the product's story in a real browser: add a user,
// copy and resend the link, let it expire, send a new invitation, see the
// old link refused, register and join with the new one, and find the new
// member Active; a cross-site form post is refused. Each state it shows
// passes axe-core, at the window's width and, for the main pages, at
// 320 px too.
func TestBrowserStory(t *testing.T) {
	ctx := browser(t)
	a, base := startApp(t)
	s := &session{t: t, ctx: ctx}
	const ada = "ada@example.com"

	// Eve's invitation will expire untouched, for her expired page.
	_, err := a.svc.Invite(context.Background(), invitations.InviteInput{AccountID: accountID, Email: "eve@example.com", Roles: []string{"Member"}})
	require.NoError(t, err)
	eveLink := a.outbox.last().Link

	// Not signed in: the app's sign-in page first.
	s.do(chromedp.Navigate(base + "/"))
	s.signIn(adminEmail, "grace")
	s.waitFor("the Users page", `document.querySelector('`+row(adminEmail)+`') !== null`)
	s.waitFor("the groups the account has", `document.querySelectorAll('#add-form input[name=group]').length === 3`)
	s.screenshot("users")
	s.narrow("users")

	// Add user: first name, last name, email, groups.
	s.do(chromedp.Click(chromedp.ID("add-open")),
		chromedp.SendKeys(chromedp.CSS(`#add-form input[name=first]`), "Ada"),
		chromedp.SendKeys(chromedp.CSS(`#add-form input[name=last]`), "Lovelace"),
		chromedp.SendKeys(chromedp.CSS(`#add-form input[name=email]`), ada),
		chromedp.Click(chromedp.CSS(`#add-form input[value=Admin]`)))
	s.screenshot("add-user")
	s.do(chromedp.Click(chromedp.CSS(`#add-form button[type=submit]`)))
	s.waitFor("the confirmation", `document.querySelector('#flash').textContent === 'Your invitation was sent successfully.'`)
	s.waitFor("Ada's row", `document.querySelector('`+row(ada)+`') !== null`)
	assert.Equal(t, "Invited", s.badge(ada))
	s.screenshot("invited")

	// Copy invitation link: the dialog shows it, the button copies it.
	s.choose(ada, "copy_link")
	s.waitFor("the link dialog", `document.querySelector('#copy-link').open`)
	s.do(chromedp.Click(chromedp.ID("copy-button")))
	s.waitFor("Link copied", `document.querySelector('#copy-status').textContent === 'Link copied'`)
	firstLink := s.eval(`document.querySelector('#link-value').value`)
	assert.True(t, strings.HasPrefix(firstLink, base+"/invitations/accept?token="), firstLink)
	s.screenshot("link-copied")
	s.do(chromedp.Click(chromedp.CSS(`#copy-link [data-close]`)))
	s.waitFor("focus back on Ada's •••", focusedOn(ada))
	page, err := a.svc.List(context.Background(), invitations.ListQuery{AccountID: accountID, Search: ada})
	require.NoError(t, err)
	require.Len(t, page.Invitations, 1)
	assert.False(t, page.Invitations[0].LinkCopiedAt.IsZero(), "the copy is recorded: the link went by hand")

	// Right after the invite the limits' cooldown holds Resend back: the
	// menu says until when, without trying.
	assert.Regexp(t, `^Resend invitation link \(again in \d+ seconds\)\|Copy invitation link\|Edit\|Remove\|History$`, s.menuItems(ada))
	assert.Equal(t, "true", s.eval(`document.querySelector('`+row(ada)+` button[data-action="resend"]').getAttribute('aria-disabled')`))
	s.screenshot("resend-cooldown")
	s.eval(`window.clockMoved = false; fetch('/demo/clock', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"minutes": 1}'})` +
		`.then(r => { window.clockMoved = r.ok }); 'moving'`)
	s.waitFor("the demo clock a minute on", `window.clockMoved === true`)
	s.do(chromedp.Click(chromedp.CSS(`#tabs [aria-selected=true]`))) // the table is drawn again
	s.waitFor("Resend offered again", `document.querySelector('`+row(ada)+` button[data-action="resend"]')?.hasAttribute('aria-disabled') === false`)

	// A minute later: the same link again.
	s.choose(ada, "resend")
	s.waitFor("the resend confirmation", `document.querySelector('#flash').textContent.startsWith('The invitation link was sent again')`)
	s.waitFor("focus on Ada's new •••, the table drawn again", focusedOn(ada))
	assert.Equal(t, firstLink, s.eval(`document.querySelector('#mails a.mail-link').href`), "resend mails the same link")
	assert.Equal(t, "Open the link sent to "+ada, s.eval(`document.querySelector('#mails a.mail-link').textContent`))

	// Eight days later the link has expired: the menu offers a new invitation, not a resend.
	s.do(chromedp.Click(chromedp.ID("advance")))
	s.waitFor("the expiry", `document.querySelector('`+row(ada)+` .badge')?.textContent === 'Invitation expired'`)
	assert.Equal(t, "Send new invitation|Edit|Remove|History", s.menuItems(ada))
	s.screenshot("expired-menu")
	s.do(chromedp.Click(chromedp.CSS(row(ada) + ` button[data-action="regenerate"]`)))
	s.waitFor("the new invitation", `document.querySelector('#flash').textContent.startsWith('A new invitation was sent')`)
	s.waitFor("focus on Ada's new •••", focusedOn(ada))
	assert.Equal(t, "Invited", s.badge(ada))
	newLink := s.eval(`document.querySelector('#mails a.mail-link').href`)
	assert.NotEqual(t, firstLink, newLink)

	// The History in the menu: who did what, and what became of the mail.
	s.choose(ada, "history")
	s.waitFor("the history", `document.querySelector('#history').open && document.querySelectorAll('#history-list li').length >= 6`)
	history := s.eval(`[...document.querySelectorAll('#history-list li')].map(li => li.textContent.split(',')[0]).join('|')`)
	assert.Equal(t, "Invited by grace@acme.test|Delivered: invitation email|Link copied by grace@acme.test|"+
		"Resent by grace@acme.test|Delivered: resent invitation email|New invitation sent by grace@acme.test|Delivered: new invitation email", history)
	s.screenshot("history")
	s.do(chromedp.Click(chromedp.CSS(`#history [data-close]`)))
	s.waitFor("focus back on Ada's •••", focusedOn(ada))

	// The old link is dead.
	s.do(chromedp.Navigate(firstLink))
	s.waitFor("the invalid page", `document.body.innerText.includes('This invitation link is not valid')`)
	assert.Equal(t, "Invitation link not valid", s.eval(`document.title`))
	s.screenshot("old-link")

	// Linus already has a user (of Globex). Grace invites him and copies
	// his link; opened by Grace herself, it is refused: only Linus answers.
	s.do(chromedp.Navigate(base + "/"))
	s.waitFor("the Users page", `document.querySelector('`+row(ada)+`') !== null`)
	s.do(chromedp.Click(chromedp.ID("add-open")),
		chromedp.SendKeys(chromedp.CSS(`#add-form input[name=email]`), otherEmail))
	s.do(chromedp.Click(chromedp.CSS(`#add-form button[type=submit]`)))
	s.waitFor("Linus invited", `document.querySelector('`+row(otherEmail)+`') !== null`)
	s.choose(otherEmail, "copy_link")
	s.waitFor("the link dialog", `document.querySelector('#copy-link').open`)
	linusLink := s.eval(`document.querySelector('#link-value').value`)
	s.do(chromedp.Click(chromedp.CSS(`#copy-link [data-close]`)))
	s.do(chromedp.Navigate(linusLink))
	s.waitFor("the refusal", `document.body.innerText.includes('This invitation is for someone else')`)
	refusal := s.eval(`document.body.innerText`)
	assert.Contains(t, refusal, "l•••@example.com")
	assert.NotContains(t, refusal, otherEmail, "never the whole address")
	assert.Equal(t, "0", s.eval(`String(document.querySelectorAll('button').length)`), "nothing to press")
	s.screenshot("copied-link-refused")

	// Signed out, Eve's link says it expired.
	s.signOut(base)
	s.do(chromedp.Navigate(eveLink))
	s.waitFor("the expired page", `document.body.innerText.includes('This invitation has expired')`)
	assert.Equal(t, "Invitation to join Acme Inc. expired", s.eval(`document.title`))
	s.screenshot("expired-link")

	// Signed out, the link asks Linus to sign in, and brings him back.
	s.do(chromedp.Navigate(linusLink))
	s.waitFor("sign in first", `document.body.innerText.includes('Sign in to join Acme Inc.')`)
	assert.Equal(t, "0", s.eval(`String(document.querySelectorAll('button').length)`), "no Accept before signing in")
	s.screenshot("sign-in-first")
	s.do(chromedp.Click(chromedp.CSS(`a.button`)))
	s.signIn(otherEmail, "linus")
	s.waitFor("the invitation, for Linus", `document.body.innerText.includes('Join Acme Inc.')`)
	s.do(chromedp.Click(chromedp.CSS(`button[value=accept]`)))
	s.waitFor("Linus joined", `document.body.innerText.includes('You joined Acme Inc.')`)
	s.signOut(base)

	// The new one: the invitation, then registration, then joined.
	s.do(chromedp.Navigate(newLink))
	s.waitFor("the invitation page", `document.body.innerText.includes('Join Acme Inc.')`)
	assert.Contains(t, s.eval(`document.body.innerText`), "Grace Hopper")
	assert.Equal(t, "/invitations/accept", s.eval(`location.pathname`))
	assert.Equal(t, "Invitation to join Acme Inc.", s.eval(`document.title`))
	s.screenshot("invitation")
	s.narrow("invitation")
	s.do(chromedp.Click(chromedp.CSS(`button[value=accept]`)))
	s.waitFor("the registration form", `document.querySelector('input[name=password]') !== null`)
	assert.Equal(t, "Ada", s.eval(`document.querySelector('input[name=first_name]').value`))
	assert.NotContains(t, s.eval(`location.href`), "token=", "no token in the URL after the POST")
	s.do(chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "correct horse battery"))
	s.screenshot("register")
	s.narrow("register")

	// Sent without the terms: the error is tied to its field, focus is
	// on it, and the password is still there.
	s.do(chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	s.waitFor("the registration's error", `document.title.startsWith('Error: ')`)
	s.requireFocus(`#terms`, "autofocus on the field to fix") // once the page is drawn
	assert.Equal(t, "Accept the terms of service to join.",
		s.eval(`document.getElementById(document.activeElement.getAttribute('aria-describedby')).textContent`))
	assert.Equal(t, "true", s.eval(`document.activeElement.getAttribute('aria-invalid')`))
	assert.Equal(t, "correct horse battery", s.eval(`document.querySelector('input[name=password]').value`), "not typed twice")
	assert.Equal(t, "Lovelace", s.eval(`document.querySelector('input[name=last_name]').value`))
	s.screenshot("register-error")
	s.do(chromedp.Click(chromedp.CSS(`input[name=terms]`)), chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	s.waitFor("joined", `document.body.innerText.includes('You joined Acme Inc.')`)
	assert.Equal(t, "You joined Acme Inc.", s.eval(`document.title`))
	s.screenshot("joined")

	// The Users page shows the new members as Active.
	s.do(chromedp.Navigate(base + "/"))
	s.signIn(adminEmail, "grace")
	s.waitFor("Ada, active", `document.querySelector('`+row(ada)+` .badge')?.textContent === 'Active'`)
	assert.Equal(t, "Active", s.badge(otherEmail))
	s.screenshot("active")

	// A pasted list goes out in one bulk call; each row on its own.
	s.do(chromedp.Click(chromedp.ID("add-open")),
		chromedp.SendKeys(chromedp.CSS(`#add-form textarea[name=emails]`), "carol@example.com, dave@example.com\nnot-an-email"))
	s.do(chromedp.Click(chromedp.CSS(`#add-form button[type=submit]`)))
	s.waitFor("the bulk summary", `document.querySelector('#flash').textContent.startsWith('2 invitations sent. Not sent: not-an-email')`)
	assert.Equal(t, "Invited", s.badge("carol@example.com"))
	assert.Equal(t, "Invited", s.badge("dave@example.com"))
	s.do(chromedp.Click(chromedp.CSS(`#tabs button[data-tab=""]`)))
	s.waitFor("their mail, sent by the delivery run", `[...document.querySelectorAll('#mails li')].some(li => li.textContent.includes('dave@example.com'))`)
	s.screenshot("bulk")

	// A cross-site form post cannot accept an invitation for its invitee.
	victim, err := a.svc.Invite(context.Background(), invitations.InviteInput{AccountID: accountID, Email: "bob@example.com", Roles: []string{"Member"}})
	require.NoError(t, err)
	token, err := invitationstest.TokenFromLink(a.outbox.last().Link)
	require.NoError(t, err)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form id="f" method="post" action=%s><input name="token" value=%s><input name="action" value="accept"></form>
<script>document.getElementById('f').submit()</script>`, js(base+"/invitations/accept"), js(token))
	}))
	defer evil.Close()
	s.do(chromedp.Navigate(evil.URL))
	s.waitFor("the refusal", `document.body.innerText.includes('Request refused')`)
	s.screenshot("cross-site-refused")
	got, err := a.svc.Get(context.Background(), accountID, victim.ID)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusPending, got.State, "the cross-site post changed nothing")

	var joined int
	require.NoError(t, a.db.QueryRow("SELECT count(*) FROM members WHERE email = ?", ada).Scan(&joined))
	assert.Equal(t, 1, joined)
}
