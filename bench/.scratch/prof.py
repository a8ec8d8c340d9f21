import json,sys,collections
d=json.load(open(sys.argv[1]))
nodes={n['id']:n for n in d['nodes']}
self_t=collections.Counter()
samples=d['samples']; deltas=d['timeDeltas']
for s,dt in zip(samples,deltas): self_t[s]+=dt
parent={}
for n in d['nodes']:
    for c in n.get('children',[]): parent[c]=n['id']
agg=collections.Counter()
for nid,t in self_t.items():
    n=nodes[nid]['callFrame']; agg[(n['functionName'] or '(anon)')+' '+n['url'].split('/')[-1]+':'+str(n['lineNumber'])]+=t
tot=sum(self_t.values())
print('total ms',tot/1000)
for k,v in agg.most_common(int(sys.argv[2]) if len(sys.argv)>2 else 40): print(f'{v/tot*100:5.1f}% {k}')
# inclusive for some
incl=collections.Counter()
for nid,t in self_t.items():
    seen=set(); x=nid
    while x in nodes:
        n=nodes[x]['callFrame']; k=(n['functionName'] or '(anon)')+' '+n['url'].split('/')[-1]+':'+str(n['lineNumber'])
        if k not in seen: incl[k]+=t; seen.add(k)
        x=parent.get(x)
        if x is None: break
print('--- inclusive')
for k,v in incl.most_common(45): print(f'{v/tot*100:5.1f}% {k}')
