-- SPDX-License-Identifier: MIT
-- wrk's summary as one machine-readable line for `make bench` (issue 11):
--   RESULT wrk requests=N errors=E rps=R p50_us=.. p90_us=.. p99_us=.. max_us=..
-- errors: connect/read/write/timeout errors and non-2xx answers. The token
-- comes from wrk's -H, so nothing secret is in this file.
done = function(summary, latency, requests)
	local e = summary.errors
	local errs = e.connect + e.read + e.write + e.timeout + e.status
	io.write(string.format(
		"RESULT wrk requests=%d errors=%d rps=%.0f p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
		summary.requests, errs, summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
