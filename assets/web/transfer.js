// Export the open chat (Markdown: the branch shown; JSON: every branch) and import a
// JSON export as a new chat. Uses app.js's state and helpers (api, upsertChat,
// selectChat, showError), loaded before this file.
'use strict';

(function () {
  const MAX_IMPORT_BYTES = 4 * 1024 * 1024; // the server's import limit (src/http.rs)
  const menu = document.getElementById('export-menu');
  const links = { markdown: document.getElementById('export-markdown'), json: document.getElementById('export-json') };
  const button = document.getElementById('import-chat');
  const input = document.getElementById('import-file');

  // app.js calls this whenever the header is drawn: the links follow the open chat.
  // A download is a same-origin GET, so the session cookie authorizes it.
  let linked = null; // the chat the links are for
  window.renderTransfer = function renderTransfer() {
    const id = state.currentId;
    menu.hidden = !id;
    if (id === linked) return;
    linked = id;
    menu.open = false;
    if (!id) return;
    for (const [format, link] of Object.entries(links)) {
      link.href = `/api/export?chat=${encodeURIComponent(id)}&format=${format}`;
    }
  };

  async function importFile(file) {
    let data;
    try {
      data = JSON.parse(await file.text());
    } catch (_) {
      showError('That file is not JSON: choose a chat exported as JSON.');
      return;
    }
    const size = new Blob([JSON.stringify(data)]).size; // what api() sends
    if (size > MAX_IMPORT_BYTES) {
      showError(`This export is ${Math.ceil(size / 1024)} KiB; the server imports files up to ${MAX_IMPORT_BYTES / 1024 / 1024} MiB.`);
      return;
    }
    button.disabled = true;
    try {
      const chat = await api('POST', '/api/import', data);
      clearBanner();
      upsertChat(chat);
      setDrawer(false);
      selectChat(chat.id);
    } catch (err) {
      showError(`Import failed: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    input.value = ''; // the same file can be picked again
    if (file) importFile(file);
  });
  // The menu closes once a format is picked, on Escape and on a click elsewhere.
  menu.addEventListener('click', (e) => {
    if (e.target.closest('a')) setTimeout(() => { menu.open = false; }); // after the download starts
  });
  document.addEventListener('click', (e) => {
    if (menu.open && !menu.contains(e.target)) menu.open = false;
  });
  menu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') menu.open = false;
  });
  window.renderTransfer();
})();
