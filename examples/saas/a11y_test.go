package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// axeSource is axe-core, vendored in testdata/axe-core with its licence
// (see its README): the same rules on every run, no network at test time.
var axeSource = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
})

// axeTags are the rule sets every state must pass: WCAG 2.0, 2.1 and 2.2
// at levels A and AA, and axe's best practices (landmarks, one h1,
// heading order).
const axeTags = `['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']`

// axeViolation is one rule axe found broken, with the nodes that break it.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// checkA11y runs axe-core on the page as it is now and fails the test
// with every violation: its rule, its impact and the nodes.
func (s *session) checkA11y(state string) {
	s.t.Helper()
	src, err := axeSource()
	require.NoError(s.t, err)
	if s.eval(`typeof axe`) != "object" {
		_, err := chromedp.Run(s.ctx, chromedp.Evaluate[any](string(src)+"\n;undefined"))
		require.NoError(s.t, err, "injecting axe-core")
	}
	violations, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {
		runOnly: {type: 'tag', values: `+axeTags+`}, resultTypes: ['violations'],
	}).then((r) => r.violations.map((v) => ({
		id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')),
	})))`, chromedp.EvalAwaitPromise))
	require.NoError(s.t, err, "running axe-core")
	var report strings.Builder
	for _, v := range violations {
		report.WriteString("\n  " + v.ID + " (" + v.Impact + "): " + v.Help + "\n    " + strings.Join(v.Targets, "\n    "))
	}
	if len(violations) > 0 {
		s.t.Errorf("axe-core found %d violations on %q:%s", len(violations), state, report.String())
	}
}

// narrow shows the page 320 CSS pixels wide (WCAG 1.4.10, reflow):
// nothing may scroll sideways but a box of its own (the users table), and
// axe-core still passes. Then the window is as before.
func (s *session) narrow(state string) {
	s.t.Helper()
	s.do(chromedp.EmulateViewport(320, 720))
	s.waitFor("the page at 320 px", `window.innerWidth === 320`)
	assert.Equal(s.t, "320", s.eval(`String(document.documentElement.scrollWidth)`), "%s scrolls sideways at 320 px; too wide: %s", state,
		s.eval(`[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 320 && !e.closest('.table-box'))
			.map((e) => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`))
	s.screenshot(state + "-320px")
	s.do(chromedp.EmulateViewport(1360, 900))
	s.waitFor("the page at full width", `window.innerWidth > 320`)
}

// press sends real key events, as a keyboard does, to whatever has focus.
func (s *session) press(keys string, opts ...chromedp.KeyOption) {
	s.t.Helper()
	s.do(chromedp.KeyEvent(keys, opts...))
}

// focused describes the element that has focus, for the test's messages.
func (s *session) focused() string {
	return s.eval(`(() => { const e = document.activeElement;
		return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "' + (e.getAttribute('aria-label') || e.textContent || e.name || '').trim() + '"' })()`)
}

// requireFocus fails unless the focused element matches the CSS selector.
func (s *session) requireFocus(selector, why string) {
	s.t.Helper()
	s.waitFor(why+" (focus on "+selector+")", `document.activeElement?.matches(`+js(selector)+`) === true`)
}

// tabTo presses Tab until the element the selector names has focus, as
// someone with a keyboard would, and fails after 40 presses.
func (s *session) tabTo(selector string) {
	s.t.Helper()
	for range 40 {
		if s.eval(`String(document.activeElement?.matches(`+js(selector)+`) === true)`) == "true" {
			return
		}
		s.press(kb.Tab)
	}
	s.t.Fatalf("40 presses of Tab never reached %s; focus is on %s", selector, s.focused())
}

// TestKeyboardWalk uses the demo with the keyboard only (Tab, Enter,
// Space, Escape and the arrow keys, as real key events): add a user, fix
// the form's error, open the "•••" menu and close it with Escape and by
// leaving it, copy the link, and accept the invitation through the
// registration step. After every step focus is where a keyboard user
// needs it: on what opened a dialog once it closes, on a menu's toggle.
func TestKeyboardWalk(t *testing.T) {
	ctx := browser(t)
	_, base := startApp(t)
	s := &session{t: t, ctx: ctx}
	const ada = "ada@example.com"
	toggle := row(ada) + ` .menu-toggle`

	s.do(chromedp.Navigate(base + "/"))
	s.waitFor("the sign-in form", `document.querySelector('input[name=password]') !== null`)
	s.tabTo(`input[name=email]`)
	s.press(adminEmail)
	s.press(kb.Tab)
	s.press("grace" + kb.Enter)
	s.waitFor("the Users page", `document.querySelector('`+row(adminEmail)+`') !== null`)
	s.waitFor("the groups", `document.querySelectorAll('#add-form input[name=group]').length === 3`)

	// The status tabs: the arrow keys move between them and select.
	s.tabTo(`#tabs [aria-selected=true]`)
	s.press(kb.ArrowRight)
	s.requireFocus(`#tab-active[aria-selected=true]`, "the arrow selects the next tab")
	assert.Equal(t, "false", s.eval(`document.querySelector('#tab-all').getAttribute('aria-selected')`))
	s.press(kb.ArrowLeft)
	s.requireFocus(`#tab-all[aria-selected=true]`, "and back")

	// Add user, with a mistake first: the error is tied to the email field
	// and focus goes there.
	s.eval(`document.activeElement.blur(); ""`) // start from the top, as after loading
	s.tabTo(`#add-open`)
	s.press(kb.Enter)
	s.waitFor("the Add user dialog", `document.querySelector('#add-user').open`)
	s.requireFocus(`#add-form input[name=first]`, "the dialog's first field")
	s.press("Ada" + kb.Tab + "Lovelace" + kb.Tab + "ada@" + kb.Enter)
	s.requireFocus(`#add-form input[name=email][aria-invalid=true]`, "the field with the error")
	assert.Equal(t, "Domain must contain a dot.", // beside its field, without the field's name in front
		s.eval(`document.getElementById(document.activeElement.getAttribute('aria-describedby')).textContent`))
	s.screenshot("add-user-error")
	s.press("a", chromedp.KeyModifiers(chromedp.ModifierCtrl))
	s.press(ada + kb.Enter)
	s.waitFor("the confirmation", `document.querySelector('#flash').textContent === 'Your invitation was sent successfully.'`)
	s.requireFocus(`#add-open`, "the dialog closed: focus back on Add user")
	s.waitFor("Ada's row", `document.querySelector('`+toggle+`') !== null`)

	// The "•••" menu: named for its row, Enter opens it on its first item,
	// the arrows move, Escape closes it and gives focus back to it.
	s.tabTo(toggle)
	assert.Equal(t, "Actions for "+ada, s.eval(`document.activeElement.getAttribute('aria-label')`))
	assert.Equal(t, "false", s.eval(`document.activeElement.getAttribute('aria-expanded')`))
	s.press(kb.Enter)
	s.requireFocus(row(ada)+` [role=menu] [role=menuitem]:first-child`, "Enter opens the menu on its first item")
	assert.Equal(t, "true", s.eval(`document.querySelector('`+toggle+`').getAttribute('aria-expanded')`))
	s.press(kb.ArrowDown)
	s.requireFocus(row(ada)+` [data-action=copy_link]`, "ArrowDown moves to the next item")
	s.screenshot("menu-by-keyboard")
	s.press(kb.ArrowUp + kb.ArrowUp)
	s.requireFocus(row(ada)+` [data-action=history]`, "ArrowUp wraps around to the last")
	s.press(kb.Escape)
	s.requireFocus(toggle, "Escape closes the menu")
	assert.Equal(t, "false", s.eval(`document.querySelector('`+toggle+`').getAttribute('aria-expanded')`))
	assert.Equal(t, "true", s.eval(`String(document.querySelector('`+row(ada)+` [role=menu]').hidden)`))

	// Leaving the menu with Tab closes it too.
	s.press(kb.ArrowDown)
	s.requireFocus(row(ada)+` [role=menuitem]`, "ArrowDown opens the menu")
	s.press(kb.Tab)
	s.waitFor("the menu closed as focus left it", `document.querySelector('`+toggle+`').getAttribute('aria-expanded') === 'false'`)

	// Copy invitation link, then Escape: focus back on the row's "•••".
	s.tabTo(toggle)
	s.press(kb.Enter)
	s.requireFocus(row(ada)+` [role=menuitem]`, "the open menu")
	s.tabToItem("copy_link")
	s.press(kb.Enter)
	s.waitFor("the link dialog", `document.querySelector('#copy-link').open`)
	s.tabTo(`#copy-button`)
	s.press(kb.Enter)
	s.waitFor("Link copied", `document.querySelector('#copy-status').textContent === 'Link copied'`)
	s.screenshot("link-copied-by-keyboard")
	link := s.eval(`document.querySelector('#link-value').value`)
	s.press(kb.Escape)
	s.waitFor("the dialog closed", `!document.querySelector('#copy-link').open`)
	s.requireFocus(toggle, "the dialog closed: focus back on the row's •••")

	// Accept the invitation: the invitation page, the registration step
	// with its error, joined.
	s.signOut(base)
	s.do(chromedp.Navigate(link))
	s.waitFor("the invitation page", `document.title === 'Invitation to join Acme Inc.'`)
	s.tabTo(`button[value=accept]`)
	s.press(kb.Enter)
	s.waitFor("the registration form", `document.querySelector('input[name=password]') !== null`)
	s.tabTo(`input[name=password]`)
	s.press("correct horse battery" + kb.Enter) // the terms not accepted yet
	s.waitFor("the registration's error", `document.title.startsWith('Error: ')`)
	s.requireFocus(`input[name=terms][aria-invalid=true]`, "the field with the error")
	s.press(" ")
	s.tabTo(`button[type=submit]`)
	s.press(kb.Enter)
	s.waitFor("joined", `document.title === 'You joined Acme Inc.'`)
}

// tabToItem moves through an open menu with ArrowDown to the item of
// the action.
func (s *session) tabToItem(action string) {
	s.t.Helper()
	for range 10 {
		if s.eval(`String(document.activeElement?.dataset.action === `+js(action)+`)`) == "true" {
			return
		}
		s.press(kb.ArrowDown)
	}
	s.t.Fatalf("ArrowDown never reached the menu item %s; focus is on %s", action, s.focused())
}
