# The seed's approach, as a bench peer: asyncio + run_in_executor over a ThreadPoolExecutor,
# blocking urllib.   python3 bench/seed.py LIST C
import asyncio, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor

# No proxies, whatever the environment says: loopback only.
urllib.request.install_opener(urllib.request.build_opener(urllib.request.ProxyHandler({})))

def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return len(r.read())

async def main(path, c):
    with open(path) as f:
        urls = [u.strip() for u in f if u.strip()]
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=c)
    results = await asyncio.gather(*(loop.run_in_executor(pool, fetch, u) for u in urls), return_exceptions=True)
    pool.shutdown()
    bad = [r for r in results if isinstance(r, BaseException)]
    if bad:
        print(f"python seed: {len(bad)} of {len(urls)} failed, e.g. {bad[0]!r}", file=sys.stderr)
        sys.exit(1)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
