import TinyQueue from 'tinyqueue';
import { Scheduler } from './scheduler.ts';
import { Prng } from './prng.ts';
const N = 2_000_000, LIVE = 100_000;
function runS() { const s = new Scheduler(); const r = new Prng(1); for (let i=0;i<LIVE;i++) s.at(r.next()*100,1,i,0,null); let n=0; const t0=performance.now(); while (n<N && s.pop(Infinity)) { n++; s.after(r.next()*100,1,n,0,null);} return N/((performance.now()-t0)/1000); }
function runT() { let seq=0; const q = new TinyQueue<any>([], (a,b)=> a.t-b.t || a.s-b.s); const r = new Prng(1); for (let i=0;i<LIVE;i++) q.push({t:r.next()*100,s:seq++,k:1,a:i,b:0,item:null}); let n=0, now=0; const t0=performance.now(); while (n<N && q.length) { const e=q.pop(); now=e.t; n++; q.push({t:now+r.next()*100,s:seq++,k:1,a:n,b:0,item:null});} return N/((performance.now()-t0)/1000); }
for (let i=0;i<2;i++) console.log('scheduler', Math.round(runS()), 'events/s; tinyqueue', Math.round(runT()), 'events/s');
