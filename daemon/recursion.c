/* recursion.c - idnoded's recursion setup: cache-size, recursion-timeout, negative-ttl and the upstream list (addresses and names; the recursor resolves names itself). */
#include <string.h>

#include "daemon/log.h"
#include "daemon/recursion.h"

int idn_daemon_recursion_init(idn_daemon_recursion_t *x, const idn_config_t *cfg,
			      idn_store_t *store, const idn_server_info_t *info,
			      idn_server_opts_t *sopts)
{
	memset(x, 0, sizeof(*x));
	if (!cfg->recursion)
		return IDN_OK;
	int ret = idn_rcc_new((size_t)cfg->cache_size, &x->cache);
	if (ret)
		return ret;
	idn_recursor_opts_t o = {
		.store = store,
		.info = info,
		.upstream = cfg->upstream,
		.cache = x->cache,
		.timeout_ms = cfg->recursion_timeout,
		.negative_ttl = (uint32_t)cfg->negative_ttl,
		.log = idn_vlog,
	};
	ret = idn_recursor_new(&o, &x->rec);
	if (ret) {
		idn_rcc_free(x->cache);
		x->cache = NULL;
		return ret;
	}
	idn_recursor_dispatch(x->rec, &x->dispatch);
	sopts->recurse = &x->dispatch;
	sopts->rcache = x->cache;
	return IDN_OK;
}

int idn_daemon_recursion_start(idn_daemon_recursion_t *x)
{
	return x->rec ? idn_recursor_start(x->rec) : IDN_OK;
}

void idn_daemon_recursion_stop(idn_daemon_recursion_t *x)
{
	if (!x->rec || x->stopped)
		return;
	x->stopped = true;
	idn_recursor_stop(x->rec);
	idn_recursor_stats_t st;
	idn_rcc_stats_t cs;
	idn_recursor_stats(x->rec, &st);
	idn_rcc_stats(x->cache, &cs);
	idn_log(5, "recursion: %llu handed over, %llu answered, %llu busy, %llu timed out, "
		   "%llu failed; cache %llu entries, %llu of %llu bytes, %llu hits, %llu misses",
		(unsigned long long)st.jobs, (unsigned long long)st.answered,
		(unsigned long long)st.busy, (unsigned long long)st.timeouts,
		(unsigned long long)st.bad_answers, (unsigned long long)cs.entries,
		(unsigned long long)cs.bytes, (unsigned long long)cs.max_bytes,
		(unsigned long long)cs.hits, (unsigned long long)cs.misses);
}

void idn_daemon_recursion_free(idn_daemon_recursion_t *x)
{
	idn_recursor_free(x->rec);
	idn_rcc_free(x->cache);
	x->rec = NULL;
	x->cache = NULL;
}
