// What the open chat's replies used and cost, and its settings form.
// Part of the page's script: app.js holds the state, helpers and wiring these use
// (every file is loaded before app.js, which starts the page). Everything from the
// server is untrusted and only ever rendered as text.
'use strict';

/* ---------- usage, cost and per-chat settings ---------- */

const numberFmt = new Intl.NumberFormat();

// Dollars as a person reads them: cents when large, two significant digits when tiny.
function usd(cost) {
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) return '';
  if (cost === 0) return '$0.00';
  if (cost >= 0.01) return `$${cost.toFixed(2)}`;
  if (cost < 0.000001) return '<$0.000001';
  return `$${Number(cost.toPrecision(2))}`;
}

function usageText(u) {
  if (!u || typeof u.input_tokens !== 'number') return '';
  const parts = [`${numberFmt.format(u.input_tokens)} in · ${numberFmt.format(u.output_tokens)} out`];
  const cost = usd(u.cost_usd);
  if (cost) parts.push(cost);
  return parts.join(' · ');
}

function renderUsage() {
  const u = state.currentChat && state.currentChat.usage;
  const spent = u && (u.input_tokens || u.output_tokens || u.unpriced_replies);
  els.chatUsage.hidden = !spent;
  if (!spent) return;
  // A total of $0 over replies without a price would be a guess: leave it out.
  const cost = u.cost_usd > 0 || !u.unpriced_replies ? `, ${usd(u.cost_usd)}` : '';
  let text = `This chat: ${numberFmt.format(u.input_tokens)} tokens in, ${numberFmt.format(u.output_tokens)} out${cost}`;
  if (u.unpriced_replies) {
    const n = u.unpriced_replies;
    text += ` (+ ${n} ${n === 1 ? 'reply' : 'replies'} with no known price)`;
  }
  els.chatUsage.textContent = text;
}

function modelFacts(provider, model) {
  const { p, m } = findModel(provider, model);
  const facts = [`${(p && p.name) || provider}: ${(m && m.name) || model}`];
  if (m && m.context_window) facts.push(`reads ${numberFmt.format(m.context_window)} tokens`);
  if (m && typeof m.input_price === 'number' && typeof m.output_price === 'number') {
    facts.push(`$${m.input_price} in / $${m.output_price} out per million tokens`);
  } else {
    facts.push('no known price');
  }
  return facts.join(' · ');
}

// The form shows the open chat's settings, with the ranges of its model.
function renderSettings() {
  const chat = state.currentChat;
  els.settingsToggle.disabled = !chat;
  if (!chat) {
    toggleSettings(false);
    return;
  }
  // Open on this chat: keep what the user is typing, update the model's facts.
  if (!els.settings.hidden) fillSettings(chat, els.settings.dataset.chat !== chat.id);
}

function fillSettings(chat, values = true) {
  const s = chat.settings || {};
  const { p, m } = findModel(chat.provider, chat.model);
  els.settings.dataset.chat = chat.id;
  els.settingsModel.textContent = modelFacts(chat.provider, chat.model);
  if (values) {
    els.settingsSystem.value = s.system || '';
    els.settingsTemperature.value = typeof s.temperature === 'number' ? String(s.temperature) : '';
    els.settingsMaxTokens.value = typeof s.max_tokens === 'number' ? String(s.max_tokens) : '';
  }
  els.settingsTemperature.max = String(p && typeof p.max_temperature === 'number' ? p.max_temperature : 2);
  if (m && m.max_output_tokens) els.settingsMaxTokens.max = String(m.max_output_tokens);
  else els.settingsMaxTokens.removeAttribute('max');
}

function toggleSettings(open) {
  const show = Boolean(open && state.currentChat);
  els.settings.hidden = !show;
  els.settingsToggle.setAttribute('aria-expanded', show ? 'true' : 'false');
  if (show) fillSettings(state.currentChat);
}

// Empty fields go back to the model's defaults; the server checks the ranges and says
// them when a value is outside.
async function saveSettings() {
  const id = state.currentId;
  if (!id) return;
  const number = (input) => (input.value.trim() === '' ? null : Number(input.value));
  const body = {
    system: els.settingsSystem.value.trim() ? els.settingsSystem.value : null,
    temperature: number(els.settingsTemperature),
    max_tokens: number(els.settingsMaxTokens),
  };
  try {
    const chat = await api('PATCH', `/api/chat?id=${enc(id)}`, body);
    upsertChat(chat);
    if (id === state.currentId) fillSettings(chat);
    clearBanner();
    toggleSettings(false);
  } catch (err) {
    showError(`Settings not saved: ${err.message}`);
  }
}
