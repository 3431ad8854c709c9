// A small picture of a conversation's branches, drawn from the chat's `tree` (its
// forks: where each one is, its versions, and how deep each version's branch goes).
// The branch shown is highlighted; a click on a version opens it. Only forks and
// branch ends are drawn, never every message, so a long chat stays a small picture.
'use strict';

(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const COL = 34; // px between branches
  const ROW = 30; // px between depths that matter
  const PAD = 18;

  function el(tag, attrs, ...children) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const child of children) node.append(child);
    return node;
  }

  function title(text) {
    const t = el('title');
    t.textContent = text;
    return t;
  }

  // points: [{at?, n, route: [[point, child]], children: [{id, tip, tip_n}], selected}]
  window.drawChatTree = function drawChatTree(points, headDepth, onPick) {
    // Each (point, child) leads to at most one nested fork: the one whose route ends there.
    const nested = new Map();
    points.forEach((p, i) => {
      const last = p.route && p.route.length ? p.route[p.route.length - 1] : null;
      if (last) nested.set(`${last[0]}/${last[1]}`, i);
    });
    const top = points.findIndex((p) => !p.route || !p.route.length);
    if (top < 0) return el('svg', { width: 0, height: 0 });
    const onPath = (p) => (p.route || []).every(([q, c]) => points[q] && points[q].selected === c);

    // Rows: every depth that is a fork or a branch end, in order.
    const depths = new Set([0]);
    for (const p of points) {
      depths.add(p.n);
      for (const c of p.children || []) depths.add(c.tip_n);
    }
    const rows = Array.from(depths).sort((a, b) => a - b);
    const y = (n) => PAD + rows.indexOf(n) * ROW;

    const leaves = (i) => (points[i].children || []).reduce((sum, _, c) => {
      const inner = nested.get(`${i}/${c}`);
      return sum + (inner === undefined ? 1 : leaves(inner));
    }, 0);

    const lines = el('g', { class: 'tree-lines' });
    const nodes = el('g', { class: 'tree-nodes' });
    let columns = 0;

    // Draws fork i whose column range starts at `left`; returns its x.
    function draw(i, left) {
      const p = points[i];
      const shown = onPath(p);
      let col = left;
      const xs = [];
      (p.children || []).forEach((child, c) => {
        const inner = nested.get(`${i}/${c}`);
        const width = inner === undefined ? 1 : leaves(inner);
        const x = PAD + (col + (width - 1) / 2) * COL;
        const active = shown && p.selected === c;
        const end = inner === undefined ? child.tip_n : points[inner].n;
        xs.push([x, active]);
        lines.append(el('line', { x1: x, y1: y(p.n) + ROW / 2, x2: x, y2: y(end), class: active ? 'on' : '' }));
        if (inner !== undefined) draw(inner, col);
        else {
          const tip = el('circle', { cx: x, cy: y(child.tip_n), r: 3, class: active ? 'tip on' : 'tip' });
          tip.append(title(`branch end: ${child.tip_n} messages`));
          nodes.append(tip);
        }
        const label = `version ${c + 1} of ${p.children.length}, ${child.tip_n} messages deep${active ? ' (shown)' : ''}`;
        const dot = el('circle', {
          cx: x, cy: y(p.n) + ROW / 2, r: 7,
          class: active ? 'version on' : 'version',
          tabindex: 0, role: 'button', 'aria-label': label, 'data-testid': 'tree-node', 'data-message': child.id,
        }, title(label));
        const pick = () => onPick(child.id);
        dot.addEventListener('click', pick);
        dot.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            pick();
          }
        });
        nodes.append(dot);
        col += width;
      });
      columns = Math.max(columns, col);
      const x = xs.length ? (xs[0][0] + xs[xs.length - 1][0]) / 2 : PAD + left * COL;
      for (const [cx, active] of xs) {
        lines.append(el('line', { x1: x, y1: y(p.n), x2: cx, y2: y(p.n) + ROW / 2, class: active ? 'on' : '' }));
      }
      const fork = el('circle', { cx: x, cy: y(p.n), r: 4, class: shown ? 'fork on' : 'fork' });
      fork.append(title(p.n ? `fork after message ${p.n}` : 'fork at the first message'));
      nodes.append(fork);
      return x;
    }

    const x = draw(top, 0);
    const first = points[top];
    if (first.n > 0) {
      lines.append(el('line', { x1: x, y1: y(0), x2: x, y2: y(first.n), class: 'on' }));
      const root = el('circle', { cx: x, cy: y(0), r: 4, class: 'fork on' });
      root.append(title('first message'));
      nodes.append(root);
    }
    const width = PAD * 2 + Math.max(columns - 1, 0) * COL;
    const height = PAD * 2 + (rows.length - 1) * ROW + ROW / 2;
    const svg = el('svg', {
      width, height, viewBox: `0 0 ${width} ${height}`, class: 'tree-svg',
      role: 'group', 'aria-label': `Branches of this conversation (the one shown is ${headDepth} messages long)`,
    }, lines, nodes);
    return svg;
  };
})();
