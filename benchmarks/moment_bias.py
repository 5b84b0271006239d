"""Finite-N deviation of the moment rules (R3) at several N: data behind the R3 test bounds.

Prints, for g = 0.6 and 0.8 and N = 250…2000, the mean relative deviation of (1/N) tr of
B Bᵀ, B Bᵀ B, B Bᵀ B Bᵀ, B B Bᵀ Bᵀ from the derived φ, its standard error over draws, and the
range of single draws.  Cost: O(draws · N³) per (g, N); about 10 CPU-minutes in all.

    OMP_NUM_THREADS=1 python benchmarks/moment_bias.py
"""
from rnn_theory.theory import random_matrix as rm
g=rm.g
def traces(B):
    n=B.shape[0]; BBt=B@B.T; B2=B@B
    return {"BT": np.trace(BBt)/n, "BTT": np.sum(BBt*B)/n, "BTBT": np.sum(BBt*BBt.T)/n, "BBTT": np.sum(B2*B2)/n}

for gv in (0.6, 0.8):
    th={w: float(rm.phi(w).subs(g, sp.nsimplify(gv))) for w in ("BT","BTT","BTBT","BBTT")}
    for n, draws in ((250, 16), (500, 12), (1000, 8), (2000, 4)):
        devs=[]
        for s in range(draws):
            rng=np.random.default_rng([n, s, int(gv*10)])
            B=np.linalg.inv(np.eye(n)-gv*rng.normal(size=(n,n))/np.sqrt(n))
            devs.append({w: v/th[w]-1 for w,v in traces(B).items()})
        for w in th:
            d=np.array([x[w] for x in devs])

            print(gv, n, w, "mean %.4f se %.4f min %.4f max %.4f  N*mean %.2f" % (d.mean(), d.std(ddof=1)/np.sqrt(len(d)), d.min(), d.max(), n*d.mean()), flush=True)
