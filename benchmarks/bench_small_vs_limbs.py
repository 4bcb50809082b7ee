"""The small jet against the limb jet on the same programs (prefers_limbs patched), CPU best of 3:
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_small_vs_limbs.py [dps]"""
import os, sys; A = sys.argv[1:]; sys.path.insert(0, os.path.dirname(__file__)); sys.argv = ["x"]
import bench_integrator as b, time, gmpy2, mpmath
from numerics.taylor.integrator import integrate, compile_system, _JETS, _LRU
import numerics.taylor.integrator as I
from numerics.taylor import jet_fast, jet_small
from numerics.taylor.decompose import decompose
cases=[("diag n=5",lambda: b.diag_flow(5)),("diag n=6",lambda: b.diag_flow(6)),("diag n=8",lambda: b.diag_flow(8)),("diag n=10",lambda: b.diag_flow(10)),
       ("depth3 n=4",lambda: b.diag_flow(4,D=3)),("depth3 n=6",lambda: b.diag_flow(6,D=3)),("linear 2x2x2",lambda: b.linear_flow((2,2,2))),("linear 3x3x3",lambda: b.linear_flow((3,3,3)))]
dps=int(A[0]) if A else 30
for name,mk in cases:
    s,y=mk()
    prog=decompose(s)
    nprod=sum(1 for n in prog.nodes if n.op in ("mul","sq"))
    res={}
    for mode in ("small","limbs"):
        orig=jet_fast.prefers_limbs
        I._JETS=_LRU(64)
        jet_fast.prefers_limbs=(lambda p: False) if mode=="small" else (lambda p: True)
        integrate(s,y,20,dps=dps)
        kind=type(compile_system(s,dps=dps)[1]).__name__
        best=1e9
        for _ in range(3):
            c=time.process_time(); tr=integrate(s,y,20,dps=dps); best=min(best,time.process_time()-c)
        res[mode]=(best,kind,len(tr.orders))
        jet_fast.prefers_limbs=orig
    print(f"{name:14s} dps={dps} products={nprod:3d} small {res['small'][0]:.3f}s [{res['small'][1]}] limbs {res['limbs'][0]:.3f}s [{res['limbs'][1]}] steps {res['small'][2]}/{res['limbs'][2]}  small/limbs {res['small'][0]/res['limbs'][0]:.2f}", flush=True)
