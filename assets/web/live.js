// Live updates over the WebSocket: reconnects by itself and notices a dead one.
// Part of the page's script: app.js holds the state, helpers and wiring these use
// (every file is loaded before app.js, which starts the page). Everything from the
// server is untrusted and only ever rendered as text.
'use strict';

/* ---------- live updates (WebSocket) ---------- */

const socket = { ws: null, delay: 1000, retryTimer: null, pingTimer: null, pongTimer: null, connecting: false };
const changedChats = new Set();
let changeTimer = null;

function setConnStatus(kind, text) {
  els.connStatus.dataset.state = kind;
  els.connStatus.textContent = text;
}

function socketOpen() {
  return Boolean(socket.ws && socket.ws.readyState === WebSocket.OPEN);
}

async function connectSocket() {
  socket.retryTimer = null;
  socket.connecting = true;
  let query = '';
  if (state.tokenRequired) {
    // The socket's connect handler sees no cookie: a single-use ticket admits it.
    try {
      const res = await api('GET', '/api/ws-ticket');
      query = `?ticket=${enc(res.ticket)}`;
    } catch (_) {
      socket.connecting = false;
      scheduleReconnect();
      return;
    }
  }
  let ws;
  try {
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/ws${query}`);
  } catch (_) {
    socket.connecting = false;
    scheduleReconnect();
    return;
  }
  socket.ws = ws;
  socket.connecting = false;
  setConnStatus('connecting', 'Connecting…');
  ws.addEventListener('open', () => {
    socket.delay = 1000;
    setConnStatus('live', 'Live updates on');
    socket.pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: 'ping' }));
      clearTimeout(socket.pongTimer);
      socket.pongTimer = setTimeout(() => ws.close(), PONG_TIMEOUT_MS);
    }, PING_INTERVAL_MS);
    // Back after an outage (a restart of the actor): a "cannot reach" notice is stale.
    clearNetworkNotice();
    refreshAll(); // catch up on anything missed while disconnected
  });
  ws.addEventListener('message', (e) => {
    clearTimeout(socket.pongTimer);
    handleSocketMessage(e.data);
  });
  ws.addEventListener('close', () => {
    clearInterval(socket.pingTimer);
    clearTimeout(socket.pongTimer);
    if (socket.ws === ws) socket.ws = null;
    scheduleReconnect();
  });
}

// The actor answers again (a request went through, the user came back to the tab, the
// machine is back online): waiting out the back-off would leave the page offline for
// up to MAX_BACKOFF_MS for nothing.
function reconnectNow() {
  if (socket.connecting || socket.ws || !socket.retryTimer) return;
  clearTimeout(socket.retryTimer);
  socket.retryTimer = null;
  socket.delay = 1000;
  connectSocket();
}

function scheduleReconnect() {
  if (socket.retryTimer) return;
  const delay = socket.delay;
  socket.delay = Math.min(socket.delay * 2, MAX_BACKOFF_MS);
  setConnStatus('offline', `Live updates offline, retrying in ${Math.round(delay / 1000)}s`);
  socket.retryTimer = setTimeout(connectSocket, delay);
}

function handleSocketMessage(raw) {
  let msg;
  try {
    msg = JSON.parse(raw);
  } catch (_) {
    return;
  }
  if (!msg) return;
  if (msg.type === 'generation') applyGeneration(msg.generation);
  if (msg.type !== 'changed') return;
  noteChange(typeof msg.chat === 'string' ? msg.chat : null);
}

// Coalesce bursts of events (a send produces several) into one refresh.
function noteChange(chatId) {
  changedChats.add(chatId);
  if (!changeTimer) changeTimer = setTimeout(flushChanges, 80);
}

function flushChanges() {
  changeTimer = null;
  const touchesCurrent = Boolean(state.currentId) && (changedChats.has(state.currentId) || changedChats.has(null));
  changedChats.clear();
  loadChats();
  if (touchesCurrent) syncOpenChat(false);
}

function refreshAll() {
  if (document.body.dataset.ready !== '1') return;
  loadChats();
  if (state.currentId && !state.loadingMessages) syncOpenChat(false);
}
