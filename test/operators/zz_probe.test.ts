import { Observable, take, from, tap, map } from 'rxjs';
import { tokens } from '../../src/index.js';
import { toStreamError, safeDetail } from '../../src/internal/classify.js';
const enc = new TextEncoder();
test('probe', () => {
  let pulled = 0;
  const src = new Observable<Uint8Array>((s) => { for (let i = 0; i < 1000 && !s.closed; i++) { pulled++; s.next(enc.encode(`{"token":{"text":"t${i}"}}\n`)); } s.complete(); });
  const out: string[] = [];
  src.pipe(tokens(), take(2)).subscribe((t) => out.push(t));
  let pulled2 = 0;
  const src2 = new Observable<number>((s) => { for (let i = 0; i < 1000 && !s.closed; i++) { pulled2++; s.next(i); } s.complete(); });
  src2.pipe(map((x) => x), take(2)).subscribe();
  console.log(out, pulled, pulled2);
  console.log(safeDetail('bad body: {"inputs": "secret prompt here",\n"parameters": {}}', '{"inputs": "secret prompt here",\n"parameters": {}}'));
  console.log(toStreamError(Object.assign(new Error('aborted'), {code:'ECONNRESET'})));
  console.log(toStreamError({name:'X', message:'m', $metadata:{httpStatusCode:502}}).kind);
});
