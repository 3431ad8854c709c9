'use strict';

// Renders a model's reply as Markdown (CommonMark, plus tables and strikethrough) with
// the vendored markdown-it (vendor/markdown-it.min.js, loaded before this file).
// A reply is untrusted: markdown-it escapes any HTML in it (html: false), links are
// kept only for http:, https: and mailto:, an image becomes a link (nothing remote is
// ever loaded), and the result passes an allowlist of elements and attributes before it
// reaches the page. Exposes one function: window.renderMarkdown(text) -> div.md.

(function () {
  const SAFE_LINK = /^(?:https?:|mailto:)/i;
  const LINK_REL = 'noopener noreferrer nofollow';
  const COPIED_MS = 1500;
  // What markdown-it's default preset writes, and the attributes each may keep.
  const ALLOWED = {
    A: ['href', 'title'], BLOCKQUOTE: [], BR: [], CODE: ['class'], DEL: [], EM: [], H1: [],
    H2: [], H3: [], H4: [], H5: [], H6: [], HR: [], LI: [], OL: ['start'], P: [], PRE: [],
    S: [], STRONG: [], TABLE: [], TBODY: [], TD: ['class'], TH: ['class'], THEAD: [], TR: [],
    UL: [],
  };

  function safeLink(url) {
    return SAFE_LINK.test(String(url).trim());
  }

  function makeParser() {
    if (typeof window.markdownit !== 'function') return null;
    const md = window.markdownit({ html: false, linkify: true, typographer: false });
    // Links (written, autolinked or linkified) and images keep only these schemes; any
    // other stays as the text the model wrote.
    md.validateLink = safeLink;
    const escape = md.utils.escapeHtml;
    // An image is a link to it, never an <img>: nothing is fetched unless the user asks.
    md.renderer.rules.image = (tokens, idx, options, env, self) => {
      const token = tokens[idx];
      const src = token.attrGet('src') || '';
      const alt = self.renderInlineAsText(token.children || [], options, env);
      return `<a href="${escape(src)}">${escape(`Image: ${alt || src}`)}</a>`;
    };
    // Table alignment as a class: the page's CSP allows no inline style.
    const cell = (tokens, idx, options, env, self) => {
      const token = tokens[idx];
      const style = token.attrGet('style') || '';
      const align = /text-align:(left|right|center)/.exec(style);
      if (token.attrs) token.attrs = token.attrs.filter(([name]) => name !== 'style');
      if (align) token.attrJoin('class', `md-align-${align[1]}`);
      return self.renderToken(tokens, idx, options);
    };
    md.renderer.rules.th_open = cell;
    md.renderer.rules.td_open = cell;
    return md;
  }

  let parser = null;
  try {
    parser = makeParser();
  } catch (err) {
    parser = null;
  }

  // Keeps only allowed elements and attributes (anything else becomes its text), and
  // makes every link open in a new tab without telling it where it came from.
  function clean(root) {
    for (const el of Array.from(root.querySelectorAll('*'))) {
      const keep = ALLOWED[el.tagName];
      const badLink = el.tagName === 'A' && !safeLink(el.getAttribute('href') || '');
      if (!keep || badLink) {
        el.replaceWith(document.createTextNode(el.textContent));
        continue;
      }
      for (const attr of Array.from(el.attributes)) {
        if (!keep.includes(attr.name)) el.removeAttribute(attr.name);
      }
      if (el.tagName === 'A') {
        el.target = '_blank';
        el.rel = LINK_REL;
      }
    }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(() => copyWithTextarea(text));
    }
    return copyWithTextarea(text);
  }

  // For pages not in a secure context (a LAN address over http), where the Clipboard
  // API is missing.
  function copyWithTextarea(text) {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'md-copy-buffer';
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch (err) {
      ok = false;
    }
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error('copy refused'));
  }

  // Each code block gets a bar with its language (as text) and a Copy button.
  function decorateCode(root) {
    for (const pre of Array.from(root.querySelectorAll('pre'))) {
      const code = pre.querySelector('code');
      if (!code) continue;
      let lang = '';
      for (const name of Array.from(code.classList)) {
        if (name.startsWith('language-')) lang = name.slice('language-'.length).slice(0, 40);
      }
      const label = document.createElement('span');
      label.className = 'md-code-lang';
      label.dataset.testid = 'code-lang';
      label.textContent = lang;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-small md-copy';
      button.dataset.testid = 'copy-code';
      button.textContent = 'Copy';
      button.setAttribute('aria-label', lang ? `Copy the ${lang} code` : 'Copy the code');
      let timer = 0;
      button.addEventListener('click', () => {
        copyText(code.textContent).then(
          () => { button.textContent = 'Copied'; },
          () => { button.textContent = 'Copy failed'; },
        ).then(() => {
          clearTimeout(timer);
          timer = setTimeout(() => { button.textContent = 'Copy'; }, COPIED_MS);
        });
      });
      const head = document.createElement('div');
      head.className = 'md-code-head';
      head.append(label, button);
      const box = document.createElement('div');
      box.className = 'md-code';
      pre.replaceWith(box);
      box.append(head, pre);
    }
  }

  // A wide table scrolls on its own rather than widening the message.
  function wrapTables(root) {
    for (const table of Array.from(root.querySelectorAll('table'))) {
      const box = document.createElement('div');
      box.className = 'md-table';
      table.replaceWith(box);
      box.append(table);
    }
  }

  function plain(div, text) {
    div.classList.add('md-plain');
    div.textContent = text;
    return div;
  }

  window.renderMarkdown = function renderMarkdown(text) {
    const source = String(text == null ? '' : text);
    const div = document.createElement('div');
    div.className = 'md';
    if (!parser) return plain(div, source);
    try {
      // A <template>'s content is inert: nothing in it loads or runs while it is cleaned.
      const template = document.createElement('template');
      template.innerHTML = parser.render(source);
      clean(template.content);
      decorateCode(template.content);
      wrapTables(template.content);
      div.append(template.content);
    } catch (err) {
      return plain(div, source);
    }
    return div;
  };
}());
