// Branches: versions of a message, editing, regenerating, forking, comparing models
// and the tree.
// Part of the page's script: app.js holds the state, helpers and wiring these use
// (every file is loaded before app.js, which starts the page). Everything from the
// server is untrusted and only ever rendered as text.
'use strict';

/* ---------- branches: versions, edit, regenerate, compare, tree ---------- */

// Where a message is one of several versions: its siblings and its place among them.
function versionsOf(id) {
  const tree = (state.currentChat && state.currentChat.tree) || [];
  for (const point of tree) {
    const index = (point.children || []).findIndex((c) => c.id === id);
    if (index >= 0) return { siblings: point.children, index };
  }
  return null;
}

function renderBranchControls(node, m) {
  const slot = node.querySelector('.msg-branch');
  if (!slot) return;
  const versions = versionsOf(m.id);
  const pending = isPending(state.currentId);
  const key = `${versions ? `${versions.index}/${versions.siblings.length}` : ''}|${pending}|${state.editingId === m.id}`;
  if (slot.dataset.key === key) return;
  slot.dataset.key = key;
  const parts = [];
  if (versions) {
    const { siblings, index } = versions;
    const prev = h('button', { type: 'button', className: 'icon-btn', dataset: { testid: 'version-prev' }, disabled: pending || index === 0, attrs: { 'aria-label': 'Previous version' } }, '‹');
    const next = h('button', { type: 'button', className: 'icon-btn', dataset: { testid: 'version-next' }, disabled: pending || index === siblings.length - 1, attrs: { 'aria-label': 'Next version' } }, '›');
    prev.addEventListener('click', () => switchBranch(siblings[index - 1].id));
    next.addEventListener('click', () => switchBranch(siblings[index + 1].id));
    parts.push(h('span', { className: 'msg-versions', dataset: { testid: 'versions' } }, prev, `${index + 1}/${siblings.length}`, next));
  }
  if (m.role === 'user' && state.editingId !== m.id) {
    const edit = h('button', { type: 'button', className: 'link-btn', dataset: { testid: 'edit' }, disabled: pending }, 'Edit');
    edit.addEventListener('click', () => startEdit(node, m));
    parts.push(edit);
  } else if (m.role === 'assistant') {
    const again = h('button', { type: 'button', className: 'link-btn', dataset: { testid: 'regenerate' }, disabled: pending }, 'Regenerate');
    again.addEventListener('click', () => requestReply(state.currentId, { regenerate: m.id }));
    parts.push(again);
  }
  const fork = h('button', { type: 'button', className: 'link-btn', dataset: { testid: 'fork' }, disabled: pending }, 'Fork');
  fork.title = 'Continue in a new chat from here (the history is shared, not copied)';
  fork.addEventListener('click', () => forkFrom(m.id));
  parts.push(fork);
  slot.replaceChildren(...parts);
}

async function forkFrom(messageId) {
  const chatId = state.currentId;
  if (!chatId) return;
  try {
    const chat = await api('POST', `/api/fork?chat=${enc(chatId)}`, { message: messageId });
    upsertChat(chat);
    await openChat(chat.id);
  } catch (err) {
    showError(err.message);
  }
}

async function switchBranch(messageId) {
  const chatId = state.currentId;
  if (!chatId || isPending(chatId)) return;
  try {
    const res = await api('POST', `/api/branch?chat=${enc(chatId)}`, { message: messageId });
    upsertChat(res.chat);
    await syncOpenChat(false);
  } catch (err) {
    showError(err.message);
  }
}

// Editing a question writes a new version next to it and asks for a reply to it.
function startEdit(node, m) {
  if (state.editingId) return;
  state.editingId = m.id;
  const bubble = node.querySelector('.bubble');
  const box = h('textarea', { className: 'edit-box', dataset: { testid: 'edit-box' }, rows: 3 });
  box.value = String(m.content || '');
  const save = h('button', { type: 'submit', className: 'btn btn-primary btn-small', dataset: { testid: 'edit-save' } }, 'Save and ask');
  const cancel = h('button', { type: 'button', className: 'btn btn-small', dataset: { testid: 'edit-cancel' } }, 'Cancel');
  const form = h('form', { className: 'edit-form' }, box, h('div', { className: 'edit-actions' }, cancel, save));
  const close = () => {
    form.remove();
    bubble.hidden = false;
    state.editingId = null;
    renderMessages();
  };
  cancel.addEventListener('click', close);
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
    } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const content = box.value.trim();
    if (!content) return;
    const chatId = state.currentId;
    save.disabled = true;
    try {
      const res = await api('POST', `/api/edit?chat=${enc(chatId)}`, { message: m.id, content });
      close();
      upsertChat(res.chat);
      await syncOpenChat(false);
      await requestReply(chatId);
    } catch (err) {
      save.disabled = false;
      showError(err.message);
    }
  });
  bubble.hidden = true;
  bubble.after(form);
  renderMessages();
  box.focus();
}

// Models picked under "Compare" answer too, next to the chat's own model.
function replyModels(chatId) {
  const chat = state.chats.find((c) => c.id === chatId) || state.currentChat;
  if (!state.compare.size || !chat) return {};
  const own = modelKey(chat.provider, chat.model);
  const keys = [own].concat(Array.from(state.compare).filter((k) => k !== own)).slice(0, 3);
  if (keys.length < 2) return {};
  return { models: keys.map(parseModelKey) };
}

// The models picked under "Compare", without the one the chat uses: that one always
// answers, so it is shown ticked and fixed, and does not count against the two more.
function comparedOthers() {
  const own = els.modelSelect.value;
  return Array.from(state.compare).filter((k) => k !== own);
}

function renderCompare() {
  const own = els.modelSelect.value;
  const options = [];
  for (const p of state.providers) {
    if (!p.available) continue;
    for (const m of p.models || []) {
      const key = modelKey(p.id, m.id);
      const mine = key === own;
      const box = h('input', { type: 'checkbox', value: key, checked: mine || state.compare.has(key), disabled: mine });
      box.addEventListener('change', () => {
        if (box.checked && comparedOthers().length >= 2) {
          box.checked = false;
          showError('Compare asks at most two more models next to the chat\'s own.');
          return;
        }
        if (box.checked) state.compare.add(key);
        else state.compare.delete(key);
        renderCompareSummary();
      });
      const label = ` ${p.name || p.id}: ${m.name || m.id}${mine ? ' (this chat\'s model)' : ''}`;
      options.push(h('label', { className: 'compare-option' }, box, label));
    }
  }
  els.compareList.replaceChildren(...options);
  renderCompareSummary();
}

function renderCompareSummary() {
  const n = comparedOthers().length;
  els.compareSummary.textContent = n ? `Compare: +${n} model${n === 1 ? '' : 's'}` : 'Compare models';
}

function toggleTree(open) {
  const show = Boolean(open && state.currentChat);
  els.treePanel.hidden = !show;
  els.treeToggle.setAttribute('aria-expanded', show ? 'true' : 'false');
  renderTree();
}

function renderTree() {
  const chat = state.currentChat;
  els.treeToggle.disabled = !chat || !(chat.tree && chat.tree.length);
  if (els.treePanel.hidden) return;
  if (!chat || !chat.tree || !chat.tree.length || typeof window.drawChatTree !== 'function') {
    els.treePanel.replaceChildren(h('p', { className: 'muted' }, 'This conversation has one branch.'));
    return;
  }
  const svg = window.drawChatTree(chat.tree, chat.message_count, (id) => {
    toggleTree(false);
    switchBranch(id);
  });
  els.treePanel.replaceChildren(svg);
}
