import json,sys,collections
def load(f):
    d=json.load(open(f))
    m=d['snapshot']['meta']; nf=m['node_fields']; types=m['node_types'][0]; strings=d['strings']
    N=len(nf); nodes=d['nodes']
    ti=nf.index('type'); ni=nf.index('name'); si=nf.index('self_size')
    agg=collections.Counter(); cnt=collections.Counter()
    for i in range(0,len(nodes),N):
        t=types[nodes[i+ti]]; name=strings[nodes[i+ni]]
        key=t+':'+(name[:50] if t in('object','closure','native','hidden','code','array') else '')
        agg[key]+=nodes[i+si]; cnt[key]+=1
    return agg,cnt
a,ac=load(sys.argv[1]); b,bc=load(sys.argv[2])
diff={k:b[k]-a.get(k,0) for k in b}
print('total diff KB', sum(diff.values())/1024)
for k,v in sorted(diff.items(), key=lambda x:-x[1])[:30]: print(f'{v/1024:9.1f} KB {bc[k]-ac.get(k,0):7d} {k}')
