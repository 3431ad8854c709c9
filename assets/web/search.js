'use strict';

// Search over chat titles and messages (GET /api/search). While the box holds text,
// the results take the chat list's place; Esc or an empty box brings the list back.
// Loaded before app.js; it uses app.js's api() (token prompt, retries), setDrawer() and
// sentence() only once the user types, when they exist. Everything from the server is shown as
// text (textContent / text nodes), never as HTML.
(() => {
  const DEBOUNCE_MS = 250;
  const search = { text: '', seq: 0, next: null, results: [], scanned: 0 };
  const els = {};
  let timer = null;

  function node(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // The text with the first case-insensitive occurrence of `word` in a <mark>, when
  // lowercasing keeps the lengths (so the positions hold); otherwise plain text.
  function marked(parent, text, word) {
    const lower = text.toLowerCase();
    const at = lower.length === text.length ? lower.indexOf(word.toLowerCase()) : -1;
    if (at < 0 || !word) {
      parent.append(text);
      return parent;
    }
    parent.append(text.slice(0, at), node('mark', '', text.slice(at, at + word.length)), text.slice(at + word.length));
    return parent;
  }

  function open(id) {
    location.hash = '#' + encodeURIComponent(id);
    if (typeof setDrawer === 'function') setDrawer(false);
  }

  function resultNode(result) {
    const button = node('button', 'chat-open');
    button.type = 'button';
    const title = marked(node('span', 'chat-title'), result.title || 'Untitled chat', search.text);
    title.dataset.testid = 'search-title';
    button.append(title);
    for (const match of result.matches || []) {
      const who = match.role === 'user' ? 'You: ' : 'Reply: ';
      const p = marked(node('span', 'search-snippet', who), match.snippet, search.text);
      p.dataset.testid = 'search-snippet';
      button.append(p);
    }
    button.addEventListener('click', () => open(result.chat));
    const li = node('li', 'chat-item search-result');
    li.dataset.testid = 'search-result';
    li.dataset.chatId = result.chat;
    li.append(button);
    return li;
  }

  function render() {
    const searching = Boolean(search.text);
    els.list.hidden = searching;
    els.panel.hidden = !searching;
    if (!searching) return;
    els.results.replaceChildren(...search.results.map(resultNode));
    const chats = `${search.scanned} chat${search.scanned === 1 ? '' : 's'}`;
    if (search.results.length) els.status.textContent = `${search.results.length} found in the ${chats} searched`;
    else els.status.textContent = `No match in the ${chats} searched`;
    els.more.hidden = !search.next;
  }

  // Asks for the first page of `text`, or with `more` the next one; answers to an
  // older query are dropped.
  async function run(more) {
    const text = els.box.value.trim();
    if (!text) return reset();
    if (!more && text === search.text) return;
    const seq = ++search.seq;
    if (!more) Object.assign(search, { text, next: null, results: [], scanned: 0 });
    let path = `/api/search?q=${encodeURIComponent(text)}`;
    if (more && search.next) path += `&before=${encodeURIComponent(search.next)}`;
    els.more.disabled = true;
    render();
    els.status.textContent = 'Searching…';
    try {
      const data = await api('GET', path);
      if (seq !== search.seq) return;
      // A chat cut by the server's budget comes again with the rest of its matches.
      for (const result of data.results || []) {
        const known = search.results.find((r) => r.chat === result.chat);
        if (known) known.matches = known.matches.concat(result.matches || []);
        else search.results.push(result);
      }
      search.next = data.next || null;
      search.scanned += data.scanned_chats || 0;
      render();
    } catch (err) {
      if (seq === search.seq) els.status.textContent = sentence(err.message);
    } finally {
      if (seq === search.seq) els.more.disabled = false;
    }
  }

  function reset() {
    clearTimeout(timer);
    search.seq += 1;
    Object.assign(search, { text: '', next: null, results: [], scanned: 0 });
    render();
  }

  function start() {
    els.box = document.getElementById('search');
    els.list = document.getElementById('chat-list');
    els.panel = document.getElementById('search-panel');
    els.status = document.getElementById('search-status');
    els.results = document.getElementById('search-results');
    els.more = document.getElementById('search-more');
    els.box.addEventListener('input', () => {
      clearTimeout(timer);
      if (!els.box.value.trim()) reset();
      else timer = setTimeout(() => run(false), DEBOUNCE_MS);
    });
    els.box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        clearTimeout(timer);
        run(false);
      } else if (e.key === 'Escape') {
        e.stopPropagation(); // the page's own Esc closes the drawer
        els.box.value = '';
        reset();
      }
    });
    els.more.addEventListener('click', () => run(true));
  }

  start(); // deferred: the document is parsed
})();
