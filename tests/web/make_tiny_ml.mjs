// tests/web/make_tiny_ml.mjs DIR — writes a tiny synthetic MovieLens-100k directory (the exact
// file formats: u.genre, u.occupation, u.user, u.item, u.data) for tests that run without the
// real data set, which may not be redistributed.
import fs from 'node:fs';
const dir = process.argv[2];
fs.mkdirSync(dir, { recursive: true });
const genres = ['unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary',
  'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western'];
fs.writeFileSync(`${dir}/u.genre`, genres.map((g, i) => `${g}|${i}`).join('\n') + '\n\n');
const occ = ['administrator', 'artist', 'engineer', 'other', 'student'];
fs.writeFileSync(`${dir}/u.occupation`, occ.join('\n') + '\n');
let users = '';
for (let u = 1; u <= 60; u++) users += `${u}|${18 + u % 40}|${u % 2 ? 'M' : 'F'}|${occ[u % 5]}|${10000 + u * 97}\n`;
fs.writeFileSync(`${dir}/u.user`, users);
const names = ['Star Wars', 'Star Trek', 'Toy Story', 'Fargo', 'Heat', 'Casablanca', 'Alien', 'Babe', 'Se7en', 'Braveheart'];
let items = '';
for (let m = 1; m <= 120; m++) {
  const title = m <= names.length ? names[m - 1] : `Movie ${m}`;
  const y = 1950 + m % 50;
  const flags = genres.map((_, g) => (g === (m % 6) + 1 || (m % 7 === 0 && g === 8) ? 1 : 0));
  items += `${m}|${title} (${y})|01-Jan-${y}||http://example.invalid/|${flags.join('|')}\n`;
}
fs.writeFileSync(`${dir}/u.item`, items);
let data = '';
for (let u = 1; u <= 60; u++)
  for (let m = 1; m <= 120; m++)
    if ((u * 7 + m * 3) % 4 === 0) data += `${u}\t${m}\t${(m % 6) === (u % 6) ? 5 : 1 + (u + m) % 3}\t${880000000 + u * 1000 + m}\n`;
fs.writeFileSync(`${dir}/u.data`, data);
