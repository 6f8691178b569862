-- POST the same body on every request: BENCH_BODY, with BENCH_CONTENT_TYPE.
-- (Authorization and other headers come from wrk -H.)
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
