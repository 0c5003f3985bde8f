// The Users page. Invitations go through the library's admin API only;
// /demo/... is the demo's members list, outbox and clock.
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
  return p?.detail;
}

function wait(seconds) {
  if (seconds < 120) return seconds + ' seconds';
  if (seconds < 7200) return Math.ceil(seconds / 60) + ' minutes';
  return Math.ceil(seconds / 3600) + ' hours';
}

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
  $('#users tbody').replaceChildren(...rows);
  const n = { ...counts, active: members.length };
  n[''] = n.active + n.pending + n.expired + n.declined + n.revoked;
  for (const b of document.querySelectorAll('#tabs button')) {
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
  const menu = el('div', { className: 'menu' });
  {
    const toggle = el('button', { type: 'button', textContent: '•••', title: 'Actions' });
    toggle.setAttribute('aria-haspopup', 'menu');
    const list = el('ul', { hidden: true });
    list.setAttribute('role', 'menu');
    for (const action of [...inv.actions, 'history']) {
      const b = el('button', { type: 'button', textContent: menuLabels[action], className: action === 'revoke' ? 'danger' : '' });
      b.dataset.action = action;
      b.addEventListener('click', () => { list.hidden = true; act(action, inv); });
      list.append(el('li', {}, b));
    }
    if (inv.resend_allowed_at) {
      // The resend cooldown holds it back: say until when, without trying.
      const held = inv.status === 'expired' ? 'regenerate' : 'resend';
      const seconds = Math.max(1, Math.ceil((Date.parse(inv.resend_allowed_at) - serverNow) / 1000));
      const b = el('button', { type: 'button', disabled: true, textContent: menuLabels[held] + ' (again in ' + wait(seconds) + ')' });
      b.dataset.action = held;
      list.prepend(el('li', {}, b));
    }
    toggle.addEventListener('click', () => {
      for (const other of document.querySelectorAll('.menu ul')) if (other !== list) other.hidden = true;
      list.hidden = !list.hidden;
    });
    menu.append(toggle, list);
  }
  const tr = el('tr', {}, el('td', { textContent: inv.name || '' }), el('td', { textContent: inv.email }),
    el('td', { textContent: inv.roles.join(', ') }), el('td', {}, badge(inv.status)), el('td', {}, menu));
  tr.dataset.email = inv.email;
  return tr;
}

async function act(action, inv) {
  const path = api + '/' + inv.id;
  try {
    switch (action) {
      case 'copy_link': {
        const { link } = await call('POST', path + '/link');
        $('#link-value').value = link;
        $('#copy-status').textContent = '';
        $('#copy-link').showModal();
        return;
      }
      case 'history': {
        const { events } = await call('GET', path + '/history');
        $('#history .who').textContent = inv.email;
        $('#history-list').replaceChildren(...events.map((e) => el('li', {
          textContent: eventWords[e.kind] + (e.actor ? ' by ' + e.actor : '') + ', ' +
            new Date(e.at).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) +
            (e.error ? ': ' + e.error : ''),
        })));
        $('#history').showModal();
        return;
      }
      case 'update_roles':
        editing = inv;
        $('#edit-roles .who').textContent = inv.email;
        for (const box of $('#edit-form').querySelectorAll('input[name=group]')) box.checked = inv.roles.includes(box.value);
        $('#edit-roles .problem').hidden = true;
        $('#edit-roles').showModal();
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

async function addUser(event) {
  event.preventDefault();
  const form = event.target;
  const problem = form.querySelector('.problem');
  const roles = groups(form);
  if (!roles.length) {
    problem.textContent = 'Choose at least one group.';
    problem.hidden = false;
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
    await refresh();
    flash(flashAfter, flashError);
  } catch (err) {
    problem.textContent = err.message;
    problem.hidden = false;
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
  const failed = results.map((r, i) => r.problem ? emails[i] + ': ' + r.problem.detail : null).filter(Boolean);
  const sent = results.length - failed.length;
  flashAfter = sent + (sent === 1 ? ' invitation' : ' invitations') + ' sent.' +
    (failed.length ? ' Not sent: ' + failed.join('; ') : '');
  flashError = failed.length > 0;
}

async function saveRoles(event) {
  event.preventDefault();
  const form = event.target;
  const roles = groups(form);
  const problem = form.querySelector('.problem');
  if (!roles.length) {
    problem.textContent = 'Choose at least one group.';
    problem.hidden = false;
    return;
  }
  try {
    await call('PUT', api + '/' + editing.id + '/roles', { roles });
    $('#edit-roles').close();
    await refresh();
    flash('The groups were saved.');
  } catch (err) {
    problem.textContent = err.message;
    problem.hidden = false;
  }
}

async function refreshOutbox() {
  const mails = await call('GET', '/demo/outbox');
  $('#mails').replaceChildren(...mails.map((m) => el('li', {},
    el('div', { className: 'subject', textContent: m.subject }),
    el('div', { className: 'muted', textContent: 'To ' + m.to }),
    el('a', { href: m.link, textContent: 'Open the link', className: 'mail-link' }))));
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

document.addEventListener('DOMContentLoaded', () => {
  $('#add-open').addEventListener('click', () => {
    $('#add-user .problem').hidden = true;
    $('#add-user').showModal();
  });
  $('#add-form').addEventListener('submit', addUser);
  $('#edit-form').addEventListener('submit', saveRoles);
  $('#copy-button').addEventListener('click', copyLink);
  for (const b of document.querySelectorAll('[data-close]')) b.addEventListener('click', () => b.closest('dialog').close());
  for (const b of document.querySelectorAll('#tabs button')) {
    b.addEventListener('click', () => {
      tab = b.dataset.tab;
      for (const other of document.querySelectorAll('#tabs button')) other.classList.toggle('active', other === b);
      refresh();
    });
  }
  let typing;
  $('#search').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(refresh, 150); });
  $('#advance').addEventListener('click', async () => {
    await call('POST', '/demo/clock', { days: 8 });
    await refresh();
    flash('The demo clock moved 8 days ahead.');
  });
  loadGroups();
  refresh();
});
