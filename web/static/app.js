// web/static/app.js — the pages of Soma Movies: a small hash-routed app in plain JavaScript
// (no build step). Every text from the server is put in the page with textContent, never as
// HTML; every state-changing request carries the CSRF token from /api/me in X-CSRF-Token.
'use strict';

const S = { me: null, csrf: '', lang: 'en', t: {}, genres: [] };
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k);
  return e;
}

const t = (key) => S.t[key] || key;

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') opt.headers['X-CSRF-Token'] = S.csrf;
  if (body instanceof FormData) opt.body = body;
  else if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) {
    const msg = data && data.error ? data.error.message : t('common.error');
    throw Object.assign(new Error(msg), { status: r.status });
  }
  return data;
}

async function loadMe() {
  const me = await api('GET', '/api/me' + (S.me ? '' : '?lang=' + S.lang));
  S.me = me.user;
  S.csrf = me.csrf;
  S.demo = me.demo;
  await setLang(S.me ? S.me.lang : S.lang);
}

async function setLang(lang) {
  S.lang = lang;
  localStorage.setItem('lang', lang);
  const r = await api('GET', '/api/i18n?lang=' + lang);
  S.t = r.strings;
  const g = await api('GET', '/api/genres?lang=' + lang);
  S.genres = g.genres;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('site.name');
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
  $('#lang-select').value = lang;
  renderNav();
}

function renderNav() {
  const nav = $('#nav');
  nav.replaceChildren();
  const link = (href, key, id) => el('a', { href, id, text: t(key) });
  nav.append(link('#/', 'nav.home', 'nav-home'), link('#/search', 'nav.search', 'nav-search'));
  if (S.demo) nav.append(link('#/demo', 'nav.demo', 'nav-demo'));
  if (S.me) {
    nav.append(link('#/upload', 'nav.upload', 'nav-upload'), link('#/prefs', 'nav.prefs', 'nav-prefs'),
      el('span', { class: 'muted', id: 'nav-user', text: S.me.username }),
      el('button', { class: 'link', id: 'nav-logout', text: t('nav.logout'), onclick: logout }));
  } else {
    nav.append(link('#/login', 'nav.login', 'nav-login'), link('#/register', 'nav.register', 'nav-register'));
  }
}

async function logout() {
  try { await api('POST', '/api/logout', {}); } catch (e) { /* the session is gone either way */ }
  S.me = null;
  await loadMe();
  location.hash = '#/login';
}

function stars(avg) {
  const n = Math.round(avg);
  return '★'.repeat(n) + '☆'.repeat(5 - n);
}

function genreChips(genres) {
  return el('div', { class: 'genres' }, genres.map((g) => el('span', { class: 'chip', text: g.label })));
}

function movieCard(m, extra) {
  return el('article', { class: 'card', 'data-movie': m.id },
    el('a', { href: '#/movie/' + m.id }, el('img', { src: m.cover, alt: m.title, loading: 'lazy' })),
    el('div', { class: 'body' },
      el('a', { class: 'title', href: '#/movie/' + m.id, text: m.title }),
      genreChips(m.genres),
      el('div', { class: 'muted' },
        m.n_ratings ? el('span', { class: 'stars', text: stars(m.avg_rating) }) : null,
        ' ' + (m.n_ratings ? m.avg_rating.toFixed(2) + ' · ' + m.n_ratings + ' ' + t('movie.ratings') : t('movie.no_ratings'))),
      extra || null));
}

function msgBox() { return el('div', { class: 'msg', role: 'status' }); }
function showMsg(box, text, ok) { box.textContent = text; box.className = 'msg ' + (ok ? 'ok' : 'err'); }

// ---- pages -------------------------------------------------------------------------------

async function pageHome(main) {
  if (!S.me) {
    main.append(el('h1', { text: t('home.title') }),
      el('p', { class: 'muted', text: t('home.login_first') }),
      el('p', {}, el('a', { href: '#/login', text: t('nav.login') }), ' · ',
        el('a', { href: '#/register', text: t('nav.register') }),
        S.demo ? ' · ' : null, S.demo ? el('a', { href: '#/demo', text: t('nav.demo') }) : null));
    return;
  }
  const r = await api('GET', '/api/recommendations?n=12');
  main.append(el('h1', { text: t('home.title') }));
  if (r.cold_start) main.append(el('p', { class: 'muted', id: 'cold-start', text: t('home.cold') }));
  if (!r.items.length) main.append(el('p', { class: 'muted', text: t('home.empty') }));
  main.append(el('div', { class: 'grid', id: 'recs' },
    r.items.map((m) => movieCard(m, m.reason ? el('div', { class: 'reason', text: m.reason.text }) : null))));
  main.append(el('p', { class: 'muted' }, t('home.model') + ': ' + r.model + ' · ' + r.ms.toFixed(1) + ' ms'));
}

function formField(labelKey, input) {
  return [el('label', { for: input.id, text: t(labelKey) }), input];
}

function pageAuth(main, register) {
  const box = msgBox();
  const form = el('form', { class: 'panel', id: register ? 'register-form' : 'login-form' },
    el('h1', { text: t(register ? 'auth.register_title' : 'auth.login_title') }),
    formField('auth.username', el('input', { id: 'username', type: 'text', required: true, maxlength: 32, autocomplete: 'username' })),
    formField('auth.password', el('input', { id: 'password', type: 'password', required: true, maxlength: 128,
      autocomplete: register ? 'new-password' : 'current-password' })),
    register ? el('p', { class: 'muted', text: t('auth.hint') }) : null,
    el('button', { type: 'submit', id: 'auth-submit', text: t(register ? 'nav.register' : 'nav.login') }),
    box,
    el('p', { class: 'muted' }, t(register ? 'auth.have_account' : 'auth.no_account') + ' ',
      el('a', { href: register ? '#/login' : '#/register', text: t(register ? 'nav.login' : 'nav.register') })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { username: $('#username').value, password: $('#password').value };
    if (register) body.lang = S.lang;
    try {
      const r = await api('POST', register ? '/api/register' : '/api/login', body);
      S.me = r.user;
      S.csrf = r.csrf;
      await setLang(r.user.lang);
      location.hash = register ? '#/prefs' : '#/';
    } catch (e) { showMsg(box, e.message, false); }
  });
  main.append(form);
}

async function pagePrefs(main) {
  if (!S.me) { location.hash = '#/login'; return; }
  const p = await api('GET', '/api/preferences');
  const mine = new Set(p.genres.map((g) => g.name));
  const box = msgBox();
  const checks = el('div', { class: 'checks', id: 'genre-checks' },
    S.genres.filter((g) => g.name !== 'unknown').map((g) => el('label', {},
      el('input', { type: 'checkbox', value: g.name, checked: mine.has(g.name), 'data-genre': g.name }), g.label)));
  const lang = el('select', { id: 'pref-lang' },
    el('option', { value: 'en', text: 'English', selected: p.lang === 'en' }),
    el('option', { value: 'zh', text: '简体中文', selected: p.lang === 'zh' }));
  const form = el('form', { class: 'panel', id: 'prefs-form' },
    el('h1', { text: t('prefs.title') }),
    el('label', { text: t('prefs.genres') }), checks,
    el('label', { for: 'pref-lang', text: t('prefs.lang') }), lang,
    el('div', {}, el('button', { type: 'submit', id: 'prefs-save', text: t('prefs.save') })), box);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const genres = [...checks.querySelectorAll('input:checked')].map((c) => c.value);
    try {
      const r = await api('PUT', '/api/preferences', { genres, lang: lang.value });
      S.me.lang = r.lang;
      await setLang(r.lang);
      location.hash = '#/';
    } catch (e) { showMsg(box, e.message, false); }
  });
  main.append(form);
}

async function pageSearch(main, params) {
  const q = params.get('q') || '';
  main.append(el('h1', { text: t('search.title') }));
  $('#search-input').value = q;
  if (!q) return;
  const r = await api('GET', '/api/movies/search?limit=30&q=' + encodeURIComponent(q));
  if (!r.movies.length) main.append(el('p', { class: 'muted', id: 'search-none', text: t('search.none') }));
  main.append(el('div', { class: 'grid', id: 'search-results' }, r.movies.map((m) => movieCard(m))));
}

function starInput(initial) {
  let value = initial || 0;
  const wrap = el('div', { class: 'star-input', id: 'star-input', role: 'radiogroup' });
  const paint = () => [...wrap.children].forEach((b, i) => b.classList.toggle('on', i < value));
  for (let i = 1; i <= 5; i++) {
    wrap.append(el('button', { type: 'button', 'data-stars': i, 'aria-label': i + ' / 5', text: '★',
      onclick: () => { value = i; paint(); } }));
  }
  paint();
  return { wrap, get: () => value };
}

async function pageMovie(main, id) {
  const m = await api('GET', '/api/movies/' + encodeURIComponent(id));
  const info = el('div', {},
    el('h1', { id: 'movie-title', text: m.title }),
    genreChips(m.genres),
    el('p', {}, el('span', { class: 'muted', text: t('movie.avg') + ': ' }),
      el('span', { id: 'movie-avg', text: m.n_ratings ? m.avg_rating.toFixed(2) + ' (' + m.n_ratings + ' ' + t('movie.ratings') + ')' : t('movie.no_ratings') })),
    m.release_date ? el('p', {}, el('span', { class: 'muted', text: t('movie.released') + ': ' }), m.release_date) : (m.year ? el('p', { class: 'muted', text: String(m.year) }) : null),
    m.predicted !== undefined ? el('p', {}, el('span', { class: 'muted', text: t('movie.predicted') + ': ' }), m.predicted.toFixed(1)) : null,
    m.description ? el('p', { id: 'movie-description', text: m.description }) : null);
  if (S.me) {
    const si = starInput(m.my_rating ? m.my_rating.stars : 0);
    const review = el('textarea', { id: 'review', maxlength: 1000 });
    review.value = m.my_rating ? m.my_rating.review : '';
    const box = msgBox();
    const form = el('form', { class: 'panel', id: 'rate-form' },
      el('label', { text: t('movie.your_rating') }), si.wrap,
      el('label', { for: 'review', text: t('movie.review') }), review,
      el('button', { type: 'submit', id: 'rate-submit', text: t('movie.rate') }), box);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const body = { stars: si.get() };
        if (review.value) body.review = review.value;
        const r = await api('POST', '/api/movies/' + m.id + '/rating', body);
        showMsg(box, t('movie.saved') + ' (' + r.update_ms.toFixed(1) + ' ms)', true);
        $('#movie-avg').textContent = r.movie.avg_rating.toFixed(2) + ' (' + r.movie.n_ratings + ' ' + t('movie.ratings') + ')';
        await renderReviews(m.id);
      } catch (e) { showMsg(box, e.message, false); }
    });
    info.append(form);
  }
  info.append(el('h2', { text: t('movie.reviews') }), el('div', { id: 'reviews' }));
  main.append(el('div', { class: 'details' }, el('img', { src: m.cover, alt: m.title, id: 'movie-cover' }), info));
  fillReviews(m.reviews);
}

function fillReviews(list) {
  const box = $('#reviews');
  box.replaceChildren();
  if (!list.length) box.append(el('p', { class: 'muted', text: t('movie.no_reviews') }));
  for (const r of list) {
    box.append(el('div', { class: 'review' },
      el('div', {}, el('strong', { text: r.username }), ' ', el('span', { class: 'stars', text: stars(r.stars) })),
      el('p', { class: 'review-text', text: r.review })));
  }
}

async function renderReviews(id) {
  const r = await api('GET', '/api/movies/' + id + '/reviews');
  fillReviews(r.reviews);
}

function pageUpload(main) {
  if (!S.me) { location.hash = '#/login'; return; }
  const box = msgBox();
  const checks = el('div', { class: 'checks', id: 'upload-genres' },
    S.genres.filter((g) => g.name !== 'unknown').map((g) => el('label', {},
      el('input', { type: 'checkbox', value: g.name }), g.label)));
  const form = el('form', { class: 'panel', id: 'upload-form' },
    el('h1', { text: t('upload.title') }),
    formField('upload.movie_title', el('input', { id: 'up-title', name: 'title', type: 'text', required: true, maxlength: 200 })),
    formField('upload.date', el('input', { id: 'up-date', name: 'release_date', type: 'date', required: true })),
    el('label', { text: t('movie.genres') }), checks,
    formField('upload.description', el('textarea', { id: 'up-desc', name: 'description', maxlength: 4000 })),
    formField('upload.cover', el('input', { id: 'up-cover', name: 'cover', type: 'file', accept: 'image/png,image/jpeg' })),
    el('button', { type: 'submit', id: 'up-submit', text: t('upload.submit') }), box);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fd = new FormData();
    fd.append('title', $('#up-title').value);
    fd.append('release_date', $('#up-date').value);
    fd.append('genres', [...checks.querySelectorAll('input:checked')].map((c) => c.value).join(','));
    fd.append('description', $('#up-desc').value);
    const f = $('#up-cover').files[0];
    if (f) fd.append('cover', f);
    try {
      const m = await api('POST', '/api/movies', fd);
      location.hash = '#/movie/' + m.id;
    } catch (e) { showMsg(box, e.message, false); }
  });
  main.append(form);
}

async function pageDemo(main, params) {
  const offset = Number(params.get('offset') || 0);
  const r = await api('GET', '/api/demo-users?limit=20&offset=' + offset);
  main.append(el('h1', { text: t('demo.title') }), el('p', { class: 'muted', text: t('demo.intro') }));
  const rows = r.users.map((u) => el('tr', {},
    el('td', { text: u.username }), el('td', { text: String(u.age || '') }), el('td', { text: u.gender }),
    el('td', { text: String(u.n_ratings) + ' ' + t('movie.ratings') }),
    el('td', {}, genreChips(u.genres)),
    el('td', {}, el('button', { class: 'link', 'data-demo-user': u.id, text: t('demo.enter'), onclick: async () => {
      const me = await api('POST', '/api/demo-login', { user: u.id });
      S.me = me.user;
      S.csrf = me.csrf;
      await setLang(S.lang);
      location.hash = '#/';
    } }))));
  main.append(el('table', { id: 'demo-users' },
    el('tr', {}, ['demo.user', 'demo.age', 'demo.gender', 'movie.ratings', 'movie.genres', ''].map((k) => el('th', { text: k ? t(k) : '' }))),
    rows));
  main.append(el('p', {}, el('a', { href: '#/demo?offset=' + (offset + 20), text: t('common.more') })));
}

// ---- routing ------------------------------------------------------------------------------

async function route() {
  const main = $('#main');
  const hash = location.hash.slice(1) || '/';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  main.replaceChildren();
  main.removeAttribute('data-ready');
  main.setAttribute('data-page', parts[0] || 'home');
  try {
    if (!parts.length) await pageHome(main);
    else if (parts[0] === 'login') pageAuth(main, false);
    else if (parts[0] === 'register') pageAuth(main, true);
    else if (parts[0] === 'prefs') await pagePrefs(main);
    else if (parts[0] === 'search') await pageSearch(main, params);
    else if (parts[0] === 'movie' && parts[1]) await pageMovie(main, parts[1]);
    else if (parts[0] === 'upload') pageUpload(main);
    else if (parts[0] === 'demo') await pageDemo(main, params);
    else main.append(el('p', { text: t('err.not_found') }));
  } catch (e) {
    if (e.status === 401) { location.hash = '#/login'; return; }
    main.append(el('p', { class: 'msg err', text: e.message }));
  }
  main.setAttribute('data-ready', '1');
}

async function start() {
  S.lang = localStorage.getItem('lang') || ((navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en');
  await loadMe();
  $('#search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/search?q=' + encodeURIComponent($('#search-input').value.trim());
  });
  $('#lang-select').addEventListener('change', async (ev) => {
    const lang = ev.target.value;
    if (S.me) {
      const r = await api('PUT', '/api/preferences', { lang });
      S.me.lang = r.lang;
    }
    await setLang(lang);
    await route();
  });
  window.addEventListener('hashchange', route);
  await route();
}

start();
