// The chat list (a page at a time, newest first) and opening, creating and closing chats.
// Part of the page's script: app.js holds the state, helpers and wiring these use
// (every file is loaded before app.js, which starts the page). Everything from the
// server is untrusted and only ever rendered as text.
'use strict';

/* ---------- chat list ---------- */

// The list comes a page at a time, newest chats first (a page is one record on the
// server); scrolling to its end loads the next one.
const chatNumber = (c) => Number(String(c.id).slice(1)) || 0;
const byNewest = (a, b) => chatNumber(b) - chatNumber(a);

async function loadChats() {
  const seq = ++state.chatsSeq;
  try {
    const data = await api('GET', '/api/chats');
    if (seq !== state.chatsSeq) return; // a newer load is on its way
    const fresh = data.chats || [];
    const local = new Map(state.chats.map((c) => [c.id, c]));
    // Keep a local copy that is newer than what this (possibly slow) response saw.
    const merged = fresh.map((c) => {
      const mine = local.get(c.id);
      return mine && (mine.updated_at || 0) > (c.updated_at || 0) ? mine : c;
    });
    // Older pages already loaded stay; the first page replaces what it covers.
    const oldest = fresh.length ? Math.min(...fresh.map(chatNumber)) : Infinity;
    const older = data.next ? state.chats.filter((c) => chatNumber(c) < oldest) : [];
    state.chats = merged.concat(older).sort(byNewest);
    if (!older.length) state.chatsNext = data.next || null;
    const current = state.chats.find((c) => c.id === state.currentId);
    if (current) state.currentChat = current;
    renderChatList();
    renderHeader();
    syncModelSelect();
  } catch (err) {
    showError(err.message);
  }
}

async function loadMoreChats() {
  const cursor = state.chatsNext;
  if (!cursor || state.chatsLoadingMore) return;
  state.chatsLoadingMore = true;
  try {
    const data = await api('GET', `/api/chats?before=${enc(cursor)}`);
    if (state.chatsNext !== cursor) return;
    const known = new Set(state.chats.map((c) => c.id));
    state.chats = state.chats.concat((data.chats || []).filter((c) => !known.has(c.id))).sort(byNewest);
    state.chatsNext = data.next || null;
    renderChatList();
  } catch (err) {
    showError(err.message);
  } finally {
    state.chatsLoadingMore = false;
  }
}

function maybeLoadMoreChats() {
  const nav = els.chatList.parentElement;
  if (nav && nav.scrollTop + nav.clientHeight >= nav.scrollHeight - 80) loadMoreChats();
}

function upsertChat(chat) {
  if (!chat || !chat.id) return;
  const i = state.chats.findIndex((c) => c.id === chat.id);
  if (i >= 0) state.chats[i] = chat;
  else state.chats.unshift(chat);
  state.chats.sort(byNewest);
  let versionsChanged = false;
  if (chat.id === state.currentId) {
    const before = state.currentChat && JSON.stringify(state.currentChat.tree || []);
    versionsChanged = before !== JSON.stringify(chat.tree || []);
    state.currentChat = chat;
  }
  renderChatList();
  renderHeader();
  syncModelSelect();
  // The "‹ k/N ›" of the messages shown follow the chat's tree.
  if (versionsChanged) renderMessages();
}

function renderChatList() {
  if (state.renamingId && !state.chats.some((c) => c.id === state.renamingId)) state.renamingId = null;
  const ids = new Set(state.chats.map((c) => c.id));
  for (const id of Array.from(chatItems.keys())) if (!ids.has(id)) chatItems.delete(id);
  if (!state.chats.length) {
    reconcile(els.chatList, [h('li', { className: 'chat-list-empty' }, 'No chats yet')]);
    return;
  }
  const nodes = state.chats.map((chat) => {
    let item = chatItems.get(chat.id);
    if (!item) {
      item = createChatItem(chat.id);
      chatItems.set(chat.id, item);
    }
    updateChatItem(item, chat);
    return item.li;
  });
  reconcile(els.chatList, nodes);
  // A short first page leaves nothing to scroll: load on until the list fills it.
  requestAnimationFrame(maybeLoadMoreChats);
}

function createChatItem(id) {
  const title = h('span', { className: 'chat-title', dataset: { testid: 'chat-title' } });
  const time = h('time', { className: 'chat-time' });
  const open = h('button', { type: 'button', className: 'chat-open' }, title, time);
  open.addEventListener('click', () => selectChat(id));
  const rename = h('button', { type: 'button', className: 'icon-btn', title: 'Rename', dataset: { testid: 'rename-chat' } }, '✎');
  rename.addEventListener('click', () => startRename(id));
  const del = h('button', { type: 'button', className: 'icon-btn icon-danger', title: 'Delete', dataset: { testid: 'delete-chat' } }, '✕');
  del.addEventListener('click', () => deleteChat(id));
  const li = h(
    'li',
    { className: 'chat-item', dataset: { testid: 'chat-item', chatId: id } },
    open,
    h('div', { className: 'chat-actions' }, rename, del),
  );
  return { li, open, title, time, rename, del, input: null };
}

function updateChatItem(item, chat) {
  const title = chat.title || 'Untitled chat';
  item.title.textContent = title;
  // A reply being written shows on its chat in the list too.
  const writing = state.running.has(chat.id);
  item.li.dataset.writing = writing ? '1' : '';
  // The list says when each chat was started (it is ordered that way).
  item.time.textContent = writing ? 'writing…' : shortTime(chat.created_at);
  if (chat.created_at) {
    item.time.dateTime = new Date(chat.created_at).toISOString();
    item.time.title = `Started ${fullFmt.format(new Date(chat.created_at))}`;
  }
  const active = chat.id === state.currentId;
  item.li.classList.toggle('active', active);
  if (active) item.open.setAttribute('aria-current', 'page');
  else item.open.removeAttribute('aria-current');
  item.rename.setAttribute('aria-label', `Rename chat: ${title}`);
  item.del.setAttribute('aria-label', `Delete chat: ${title}`);

  const renaming = state.renamingId === chat.id;
  if (renaming && !item.input) {
    item.input = createRenameInput(chat.id, title);
    item.open.replaceWith(item.input);
  } else if (!renaming && item.input) {
    const input = item.input;
    item.input = null;
    input.replaceWith(item.open);
  }
}

function createRenameInput(id, title) {
  const input = h('input', { type: 'text', className: 'rename-input', value: title, dataset: { testid: 'rename-input' } });
  input.setAttribute('aria-label', 'New chat title (Enter to save, Escape to cancel)');
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      finishRename(id, input.value);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      finishRename(id, null);
    }
  });
  input.addEventListener('blur', () => finishRename(id, input.value));
  return input;
}

function startRename(id) {
  if (state.renamingId && state.renamingId !== id) finishRename(state.renamingId, null);
  state.renamingId = id;
  renderChatList();
  const item = chatItems.get(id);
  if (item && item.input) {
    item.input.focus();
    item.input.select();
  }
}

// value === null cancels.
async function finishRename(id, value) {
  if (state.renamingId !== id) return; // already finished (e.g. blur after Enter)
  state.renamingId = null;
  const chat = state.chats.find((c) => c.id === id);
  const title = value === null ? '' : value.trim();
  const item = chatItems.get(id);
  const hadFocus = item && item.input && document.activeElement === item.input;
  renderChatList();
  if (hadFocus && item) item.open.focus();
  if (!chat || !title || title === chat.title) return;

  const oldTitle = chat.title;
  upsertChat(Object.assign({}, chat, { title })); // optimistic
  try {
    upsertChat(await api('PATCH', `/api/chat?id=${enc(id)}`, { title }));
  } catch (err) {
    const now = state.chats.find((c) => c.id === id);
    if (now && now.title === title) upsertChat(Object.assign({}, now, { title: oldTitle }));
    showError(err.message);
  }
}

async function deleteChat(id) {
  const chat = state.chats.find((c) => c.id === id);
  const name = chat ? chat.title : id;
  if (!window.confirm(`Delete the chat “${name}”? This cannot be undone.`)) return;
  try {
    await api('DELETE', `/api/chat?id=${enc(id)}`);
  } catch (err) {
    if (err.status !== 404) {
      showError(err.message);
      return;
    }
  }
  state.chats = state.chats.filter((c) => c.id !== id);
  state.replyErrors.delete(id);
  if (state.currentId === id) closeChat('');
  renderChatList();
  loadChats();
}

/* ---------- opening / closing chats ---------- */

function resetConversation(id, chat) {
  state.epoch += 1;
  state.currentId = id;
  state.currentChat = chat;
  state.messages = [];
  state.hasMore = false;
  state.loadingEarlier = false;
  messageNodes.clear();
  setHash(id);
}

// `fresh`: the user asked for a new chat, which the next message starts.
function closeChat(note, fresh = false) {
  resetConversation(null, null);
  state.loadingMessages = false;
  state.emptyNote = note || '';
  state.startingNew = fresh;
  renderAll();
}

function selectChat(id) {
  if (id !== state.currentId) openChat(id);
}

async function openChat(id) {
  resetConversation(id, state.chats.find((c) => c.id === id) || null);
  state.loadingMessages = true;
  state.emptyNote = '';
  clearBanner();
  renderAll();
  const [, last] = await Promise.all([syncOpenChat(true), refreshGeneration(id)]);
  showLastFailure(id, last);
}

// A chat opened on a question whose reply failed since it was asked says why (the
// server keeps how its last replies ended), not only that no reply came.
function showLastFailure(chatId, g) {
  if (!g || (g.status !== 'failed' && g.status !== 'timed_out') || state.currentId !== chatId) return;
  const question = state.messages[state.messages.length - 1];
  if (!question || question.role !== 'user' || !(question.created_at <= g.finished_at)) return;
  if (isPending(chatId) || state.replyErrors.has(chatId)) return;
  state.replyErrors.set(chatId, failureText(g));
  renderMessages();
}

// Show a chat this tab has just created (it has no messages to fetch yet).
function showNewChat(chat) {
  resetConversation(chat.id, chat);
  state.loadingMessages = false;
  state.emptyNote = '';
  renderAll();
}

// (Re)load the open chat's metadata and latest messages.
async function syncOpenChat(opening) {
  const id = state.currentId;
  const epoch = state.epoch;
  if (!id) return;
  const [chatRes, msgRes] = await Promise.allSettled([
    api('GET', `/api/chat?id=${enc(id)}`),
    loadMessages(id),
  ]);
  if (epoch !== state.epoch) return;
  if (chatRes.status === 'fulfilled') upsertChat(chatRes.value);
  const failed = [chatRes, msgRes].find((r) => r.status === 'rejected');
  if (!failed) return;
  if (failed.reason.status === 404) {
    if (opening) {
      closeChat('');
      showError(failed.reason.message);
    } else {
      closeChat('This chat was deleted.');
    }
    return;
  }
  state.loadingMessages = false;
  renderMessages();
  showError(failed.reason.message);
}

async function createChat() {
  const chat = await api('POST', '/api/chats', selectedModel() || {});
  upsertChat(chat);
  showNewChat(chat);
  return chat;
}

// A chat is created with its first message (sendMessage), so "New chat" leaves no empty
// chat behind; the model shown stays, for the new chat.
function newChat() {
  if (state.renamingId) finishRename(state.renamingId, null);
  const shown = els.modelSelect.selectedOptions[0];
  if (shown && !shown.disabled && parseModelKey(shown.value)) state.pickedModel = shown.value;
  closeChat('', true);
  clearBanner();
  els.composer.focus();
}
