import json,sys,collections
d=json.load(open(sys.argv[1]))
m=d['snapshot']['meta']; nf=m['node_fields']; types=m['node_types'][0]; strings=d['strings']
N=len(nf); nodes=d['nodes']
ti=nf.index('type'); ni=nf.index('name'); si=nf.index('self_size')
agg=collections.Counter(); cnt=collections.Counter()
for i in range(0,len(nodes),N):
    t=types[nodes[i+ti]]; name=strings[nodes[i+ni]]
    key=t+':'+(name[:60] if t in('object','closure','native','hidden','code','array') else '')
    agg[key]+=nodes[i+si]; cnt[key]+=1
tot=sum(agg.values())
print('total',tot/1048576)
for k,v in agg.most_common(int(sys.argv[2]) if len(sys.argv)>2 else 40): print(f'{v/1024:9.1f} KB {cnt[k]:7d} {k}')
