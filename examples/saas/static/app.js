// The Users page. Invitations go through the library's admin API only;
// /demo/... is the demo's members list, outbox and clock.
//
// Keyboard and screen readers: the "•••" menu is a WAI-ARIA menu button
// (arrow keys, Home, End, Escape; Tab or a click elsewhere closes it);
// the status filters are tabs; focus goes back where it came from after
// every dialog and every row action, even when the table is drawn again.
'use strict';

const api = '/api/accounts/acme/invitations';
const badges = {
  active: 'Active', pending: 'Invited', expired: 'Invitation expired',
  declined: 'Declined', revoked: 'Removed',
};
const menuLabels = {
  resend: 'Resend invitation link', copy_link: 'Copy invitation link',
  regenerate: 'Send new invitation', update_roles: 'Edit', revoke: 'Remove', history: 'History',
};

// What each stored event says in the History dialog.
const eventWords = {
  invited: 'Invited', resent: 'Resent', regenerated: 'New invitation sent', roles_updated: 'Groups changed',
  revoked: 'Removed', accepted: 'Accepted', declined: 'Declined', link_copied: 'Link copied',
  delivered: 'Delivered', delivery_failed: 'Not delivered',
};
// Which message a mail event is about: the mail server, not the admin,
// delivers it, so a mail event names its message rather than an actor.
const messageWords = {
  invite: 'invitation email', resend: 'resent invitation email', regenerate: 'new invitation email', reminder: 'reminder',
};
const done = {
  resend: 'The invitation link was sent again.',
  regenerate: 'A new invitation was sent. The old link no longer works.',
  revoke: 'The invitation was removed. Its link no longer works.',
};
let tab = '';
let editing = null;
let serverNow = Date.now(); // the demo clock, read with each refresh

const $ = (sel) => document.querySelector(sel);

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.headers.get('Content-Type')?.includes('json') ? await res.json() : null;
  if (res.status === 401) {
    location.assign('/login?next=/'); // the session ended
  }
  if (!res.ok) {
    const err = new Error(problemText(data) || res.statusText);
    err.problem = data;
    throw err;
  }
  return data;
}

// problemText words a problem for the admin; limits say when to retry.
function problemText(p) {
  if (p?.code === 'rate_limited' && p.limit === 'resend_cooldown') {
    return 'This invitation was just sent. You can send it again in ' + wait(p.retry_after) + '.';
  }
  if (p?.code === 'rate_limited') {
    return 'This account has sent as many invitation emails as it may today. Try again in ' + wait(p.retry_after) + '.';
  }
  // Shown beside its field, a problem needs no field name in front.
  if (p?.field && p.detail?.startsWith(p.field + ': ')) {
    const rest = p.detail.slice(p.field.length + 2);
    return rest.charAt(0).toUpperCase() + rest.slice(1) + '.';
  }
  return p?.detail;
}

function wait(seconds) {
  if (seconds < 120) return seconds + ' seconds';
  if (seconds < 7200) return Math.ceil(seconds / 60) + ' minutes';
  return Math.ceil(seconds / 3600) + ' hours';
}

// flash says what happened, in a live region that is always on the page
// (one added or shown with its text is not reliably read).
function flash(text, isError) {
  const el = $('#flash');
  el.textContent = text;
  el.classList.toggle('error', !!isError);
  el.hidden = false;
}

function el(tag, props, ...children) {
  const node = Object.assign(document.createElement(tag), props || {});
  for (const c of children) node.append(c);
  return node;
}

function attrs(node, values) {
  for (const [k, v] of Object.entries(values)) node.setAttribute(k, v);
  return node;
}

// rowToggle is the "•••" button of a row as the table shows it now.
function rowToggle(email) {
  for (const tr of document.querySelectorAll('#users tbody tr')) {
    if (tr.dataset.email === email) return tr.querySelector('.menu-toggle');
  }
  return null;
}

async function refresh() {
  const search = $('#search').value.trim();
  const q = new URLSearchParams({ limit: '200' });
  if (search) q.set('search', search);
  if (tab && tab !== 'active') q.set('status', tab);
  const [members, page, counts, clock] = await Promise.all([
    call('GET', '/demo/members'),
    tab === 'active' ? { invitations: [] } : call('GET', api + '?' + q),
    call('GET', api + '/counts'),
    call('GET', '/demo/clock'),
  ]);
  serverNow = Date.parse(clock.now);
  const people = members.filter((m) => m.email.startsWith(search.toLowerCase()));
  const rows = [];
  if (tab === '' || tab === 'active') {
    for (const m of people) rows.push(memberRow(m));
  }
  for (const inv of page.invitations) {
    if (inv.status !== 'accepted') rows.push(invitationRow(inv)); // accepted: the member row
  }
  // Drawing the table again must not drop focus to the page: a focused
  // row keeps it on its new "•••", a row that left gives it to the table.
  const body = $('#users tbody');
  const focused = body.contains(document.activeElement) ? document.activeElement.closest('tr')?.dataset.email : undefined;
  body.replaceChildren(...rows);
  if (focused !== undefined) (rowToggle(focused) || $('#users-panel')).focus();
  const n = { ...counts, active: members.length };
  n[''] = n.active + n.pending + n.expired + n.declined + n.revoked;
  for (const b of document.querySelectorAll('#tabs [role=tab]')) {
    b.querySelector('.count').textContent = '(' + n[b.dataset.tab] + ')';
  }
  await Promise.all([refreshOutbox(), refreshClock()]);
}

function badge(status) {
  return el('span', { className: 'badge ' + status, textContent: badges[status] });
}

function memberRow(m) {
  const tr = el('tr', {}, el('td', { textContent: m.name }), el('td', { textContent: m.email }),
    el('td', { textContent: (m.roles || []).join(', ') }), el('td', {}, badge('active')), el('td'));
  tr.dataset.email = m.email;
  return tr;
}

function invitationRow(inv) {
  const tr = el('tr', {}, el('td', { textContent: inv.name || '' }), el('td', { textContent: inv.email }),
    el('td', { textContent: inv.roles.join(', ') }), el('td', {}, badge(inv.status)), el('td', {}, actionsMenu(inv)));
  tr.dataset.email = inv.email;
  return tr;
}

// actionsMenu is a row's "•••" menu button and its menu, built from the
// invitation's actions (and History).
function actionsMenu(inv) {
  const id = 'menu-' + inv.id;
  const toggle = attrs(el('button', { type: 'button', className: 'menu-toggle', id: id + '-toggle', textContent: '•••' }), {
    'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': id, 'aria-label': 'Actions for ' + inv.email,
  });
  toggle.title = toggle.getAttribute('aria-label');
  const list = attrs(el('ul', { id, hidden: true }), { role: 'menu', 'aria-labelledby': toggle.id });
  const item = (action, text, disabled) => {
    const b = attrs(el('button', { type: 'button', textContent: text, className: action === 'revoke' ? 'danger' : '' }),
      { role: 'menuitem', tabindex: '-1' });
    b.dataset.action = action;
    if (disabled) b.setAttribute('aria-disabled', 'true');
    list.append(attrs(el('li', {}, b), { role: 'none' }));
    return b;
  };
  if (inv.resend_allowed_at) {
    // The resend cooldown holds it back: say until when, without trying.
    // Disabled items stay focusable, so that the arrow keys read them.
    const held = inv.status === 'expired' ? 'regenerate' : 'resend';
    const seconds = Math.max(1, Math.ceil((Date.parse(inv.resend_allowed_at) - serverNow) / 1000));
    item(held, menuLabels[held] + ' (again in ' + wait(seconds) + ')', true);
  }
  for (const action of [...inv.actions, 'history']) item(action, menuLabels[action], false);
  const menu = el('div', { className: 'menu' }, toggle, list);

  toggle.addEventListener('click', () => (list.hidden ? openMenu(menu, 'first') : closeMenu(menu, true)));
  toggle.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      openMenu(menu, e.key === 'ArrowDown' ? 'first' : 'last');
    }
  });
  list.addEventListener('keydown', (e) => {
    const items = [...list.querySelectorAll('[role=menuitem]')];
    const at = items.indexOf(document.activeElement);
    const move = { ArrowDown: at + 1, ArrowUp: at - 1 + items.length, Home: 0, End: items.length - 1 }[e.key];
    if (move !== undefined) {
      e.preventDefault();
      items[move % items.length].focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      closeMenu(menu, true);
    } else if (e.key === 'Tab' && e.shiftKey) {
      e.preventDefault();
      closeMenu(menu, true); // where Shift+Tab goes anyway; Tab leaves, and focusout closes
    }
  });
  list.addEventListener('click', (e) => {
    const b = e.target.closest('[role=menuitem]');
    if (!b || b.getAttribute('aria-disabled') === 'true') return;
    closeMenu(menu, true); // focus on the toggle, not lost while the action runs
    act(b.dataset.action, inv);
  });
  // Focus leaving the menu (Tab, a click elsewhere) closes it.
  menu.addEventListener('focusout', (e) => {
    if (!menu.contains(e.relatedTarget)) closeMenu(menu, false);
  });
  return menu;
}

function openMenu(menu, focus) {
  for (const other of document.querySelectorAll('.menu')) if (other !== menu) closeMenu(other, false);
  const toggle = menu.querySelector('.menu-toggle');
  const list = menu.querySelector('[role=menu]');
  list.hidden = false;
  toggle.setAttribute('aria-expanded', 'true');
  placeMenu(menu);
  const items = list.querySelectorAll('[role=menuitem]');
  items[focus === 'last' ? items.length - 1 : 0].focus();
}

function closeMenu(menu, focusToggle) {
  const toggle = menu.querySelector('.menu-toggle');
  menu.querySelector('[role=menu]').hidden = true;
  toggle.setAttribute('aria-expanded', 'false');
  if (focusToggle) toggle.focus();
}

// placeMenu puts an open menu under its toggle, right-aligned, inside the
// window: above the toggle when there is no room below.
function placeMenu(menu) {
  const list = menu.querySelector('[role=menu]');
  const at = menu.querySelector('.menu-toggle').getBoundingClientRect();
  const width = list.offsetWidth;
  const height = list.offsetHeight;
  const left = Math.max(8, Math.min(at.right - width, window.innerWidth - width - 8));
  const below = at.bottom + 4;
  list.style.left = left + 'px';
  list.style.top = (below + height > window.innerHeight && at.top - height - 4 > 0 ? at.top - height - 4 : below) + 'px';
}

function openMenuNow() {
  return [...document.querySelectorAll('.menu')].find((m) => !m.querySelector('[role=menu]').hidden);
}

// openDialog shows a dialog and, when it closes however it closes
// (a button, Escape), puts focus back on what opened it: returnTo finds
// it again, since the table may have been drawn again meanwhile.
function openDialog(dialog, returnTo) {
  dialog.returnTo = returnTo;
  dialog.showModal();
}

function dialogClosed(event) {
  const target = event.target.returnTo?.();
  if (target) target.focus();
}

async function act(action, inv) {
  const path = api + '/' + inv.id;
  const back = () => rowToggle(inv.email) || $('#users-panel');
  try {
    switch (action) {
      case 'copy_link': {
        const { link } = await call('POST', path + '/link');
        $('#link-value').value = link;
        $('#copy-status').textContent = '';
        openDialog($('#copy-link'), back);
        return;
      }
      case 'history': {
        const { events } = await call('GET', path + '/history');
        $('#history .who').textContent = inv.email;
        $('#history-list').replaceChildren(...events.map((e) => el('li', {
          textContent: eventWords[e.kind] + (e.message ? ': ' + messageWords[e.message] : e.actor ? ' by ' + e.actor : '') + ', ' +
            new Date(e.at).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) +
            (e.error ? ': ' + e.error : ''),
        })));
        openDialog($('#history'), back);
        return;
      }
      case 'update_roles':
        editing = inv;
        $('#edit-roles .who').textContent = inv.email;
        for (const box of $('#edit-form').querySelectorAll('input[name=group]')) box.checked = inv.roles.includes(box.value);
        clearProblem($('#edit-form'));
        openDialog($('#edit-roles'), back);
        return;
      case 'resend': await call('POST', path + '/resend'); break;
      case 'regenerate': await call('POST', path + '/regenerate'); break;
      case 'revoke': await call('DELETE', path); break;
    }
    await refresh();
    flash(done[action]); // once the table shows it
  } catch (err) {
    await refresh();
    flash(err.message, true);
  }
  back().focus();
}

async function copyLink() {
  const input = $('#link-value');
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand('copy'); // where the clipboard API is not allowed
  }
  $('#copy-status').textContent = 'Link copied';
}

function groups(form) {
  return [...form.querySelectorAll('input[name=group]:checked')].map((b) => b.value);
}

// showProblem says what is wrong in a dialog's form: beside the field it
// is about and tied to it (aria-invalid, aria-describedby), with focus on
// that field; or above the buttons, with focus on the message itself, when
// it is about no field.
function showProblem(form, text, field) {
  clearProblem(form);
  const problem = form.querySelector('.problem');
  problem.textContent = text;
  problem.hidden = false;
  if (!field) {
    problem.focus();
    return;
  }
  (field.closest('label') || field).after(problem);
  if (field.matches('fieldset')) {
    field.setAttribute('aria-describedby', problem.id);
    for (const box of field.querySelectorAll('input')) attrs(box, { 'aria-invalid': 'true', 'aria-describedby': problem.id });
    field.querySelector('input').focus();
    return;
  }
  attrs(field, { 'aria-invalid': 'true', 'aria-describedby': problem.id });
  field.focus();
}

function clearProblem(form) {
  const problem = form.querySelector('.problem');
  problem.hidden = true;
  form.querySelector('.buttons').before(problem);
  for (const node of form.querySelectorAll('[aria-invalid], fieldset[aria-describedby]')) {
    node.removeAttribute('aria-invalid');
    node.removeAttribute('aria-describedby');
  }
}

// problemField is the field of the Add user form a problem is about.
function problemField(form, problem, pasted) {
  const field = problem?.code === 'already_invited' ? 'email' : problem?.field;
  if (field === 'roles') return form.querySelector('fieldset.groups');
  if (pasted && (field === 'email' || field === 'invitations')) return form.emails;
  return { email: form.email, name: form.first }[field];
}

async function addUser(event) {
  event.preventDefault();
  const form = event.target;
  const roles = groups(form);
  if (!roles.length) {
    showProblem(form, 'Choose at least one group.', form.querySelector('fieldset.groups'));
    return;
  }
  const pasted = form.emails.value.split(/[\s,;]+/).filter(Boolean);
  try {
    if (pasted.length) {
      await addMany(pasted, roles);
    } else {
      await call('POST', api, {
        email: form.email.value,
        name: (form.first.value.trim() + ' ' + form.last.value.trim()).trim(),
        roles,
      });
      flashAfter = 'Your invitation was sent successfully.';
    }
    $('#add-user').close();
    form.reset();
    clearProblem(form);
    await refresh();
    flash(flashAfter, flashError);
  } catch (err) {
    showProblem(form, err.message, problemField(form, err.problem, pasted.length > 0));
  }
}

let flashAfter = '';
let flashError = false;

// addMany invites a pasted list in one call; each row succeeds or fails on
// its own, and the mail goes out with the server's next delivery run.
async function addMany(emails, roles) {
  const { results } = await call('POST', api + '/bulk', {
    invitations: emails.map((email) => ({ email, roles })),
  });
  const failed = results.map((r, i) => r.problem ? emails[i] + ': ' + problemText(r.problem) : null).filter(Boolean);
  const sent = results.length - failed.length;
  flashAfter = sent + (sent === 1 ? ' invitation' : ' invitations') + ' sent.' +
    (failed.length ? ' Not sent: ' + failed.join('; ') : '');
  flashError = failed.length > 0;
}

async function saveRoles(event) {
  event.preventDefault();
  const form = event.target;
  const roles = groups(form);
  if (!roles.length) {
    showProblem(form, 'Choose at least one group.', form.querySelector('fieldset.groups'));
    return;
  }
  try {
    await call('PUT', api + '/' + editing.id + '/roles', { roles });
    $('#edit-roles').close();
    await refresh();
    flash('The groups were saved.');
  } catch (err) {
    showProblem(form, err.message, err.problem?.field === 'roles' ? form.querySelector('fieldset.groups') : null);
  }
}

async function refreshOutbox() {
  const mails = await call('GET', '/demo/outbox');
  $('#mails').replaceChildren(...mails.map((m) => el('li', {},
    el('div', { className: 'subject', textContent: m.subject }),
    el('div', { className: 'muted', textContent: 'To ' + m.to }),
    el('a', { href: m.link, textContent: 'Open the link sent to ' + m.to, className: 'mail-link' }))));
}

async function refreshClock() {
  const { now } = await call('GET', '/demo/clock');
  $('#clock').textContent = new Date(now).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

// loadGroups fills the forms' group pickers with the roles the API says
// the account has.
async function loadGroups() {
  const { roles } = await call('GET', api.replace(/\/invitations$/, '/roles'));
  for (const fieldset of document.querySelectorAll('fieldset.groups')) {
    fieldset.replaceChildren(el('legend', { textContent: 'Groups' }), ...roles.map((role) => {
      const box = el('input', { type: 'checkbox', name: 'group', value: role, checked: fieldset.dataset.default === role, defaultChecked: fieldset.dataset.default === role });
      return el('label', { className: 'check' }, box, ' ' + role);
    }));
  }
}

// selectTab shows the rows of a status filter: a tab list whose arrow
// keys move between the tabs and select them.
function selectTab(b, focus) {
  tab = b.dataset.tab;
  for (const other of document.querySelectorAll('#tabs [role=tab]')) {
    other.setAttribute('aria-selected', String(other === b));
    other.tabIndex = other === b ? 0 : -1;
  }
  $('#users-panel').setAttribute('aria-labelledby', b.id);
  if (focus) b.focus();
  redraw();
}

// redraw refreshes the page for an event that has no other way to say
// that it failed.
function redraw() {
  refresh().catch((err) => flash(err.message, true));
}

document.addEventListener('DOMContentLoaded', () => {
  $('#add-open').addEventListener('click', () => {
    clearProblem($('#add-form'));
    openDialog($('#add-user'), () => $('#add-open'));
  });
  $('#add-form').addEventListener('submit', addUser);
  $('#edit-form').addEventListener('submit', saveRoles);
  $('#copy-button').addEventListener('click', copyLink);
  for (const d of document.querySelectorAll('dialog')) d.addEventListener('close', dialogClosed);
  for (const b of document.querySelectorAll('[data-close]')) b.addEventListener('click', () => b.closest('dialog').close());
  const tabs = [...document.querySelectorAll('#tabs [role=tab]')];
  for (const b of tabs) b.addEventListener('click', () => selectTab(b, false));
  $('#tabs').addEventListener('keydown', (e) => {
    const at = tabs.indexOf(document.activeElement);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1 + tabs.length, Home: 0, End: tabs.length - 1 }[e.key];
    if (at < 0 || to === undefined) return;
    e.preventDefault();
    selectTab(tabs[to % tabs.length], true);
  });
  // An open menu follows its toggle when the page or the table scrolls,
  // or the window changes size.
  const follow = () => { const m = openMenuNow(); if (m) placeMenu(m); };
  document.addEventListener('scroll', follow, true);
  window.addEventListener('resize', follow);
  let typing;
  $('#search').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(redraw, 150); });
  $('#advance').addEventListener('click', async () => {
    try {
      await call('POST', '/demo/clock', { days: 8 });
      await refresh();
      flash('The demo clock moved 8 days ahead.');
    } catch (err) {
      flash(err.message, true);
    }
  });
  loadGroups().catch((err) => flash(err.message, true));
  redraw();
});
