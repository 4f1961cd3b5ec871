#include "metrics.h"

#include <string.h>

#include "../store/merge.h"
#include "hooks.h"
#include "../common/banned.h"

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
}

void metrics_release(struct metrics *m)
{
	pthread_mutex_destroy(&m->lock);
}

void metrics_request(struct metrics *m, const char *route, int status)
{
	pthread_mutex_lock(&m->lock);
	size_t i;
	for (i = 0; i < m->nrequests; i++)
		if (m->requests[i].route == route && m->requests[i].status == status)
			break;
	if (i == m->nrequests && i < METRICS_MAX_SERIES) {
		m->requests[i].route = route;
		m->requests[i].status = status;
		m->nrequests++;
	}
	if (i < METRICS_MAX_SERIES)
		m->requests[i].count++;
	pthread_mutex_unlock(&m->lock);
}

void metrics_registration(struct metrics *m, int status)
{
	if (status < 0 || status > STORE_MERGE_SKIPPED)
		return;
	pthread_mutex_lock(&m->lock);
	m->registrations[status]++;
	pthread_mutex_unlock(&m->lock);
}

void metrics_write(struct metrics *m, struct buf *out)
{
	static const char *const outcome[] = {"created", "updated", "unchanged", "skipped"};
	pthread_mutex_lock(&m->lock);
	buf_adds(out, "# HELP portolan_http_requests_total HTTP requests by route and status.\n"
	              "# TYPE portolan_http_requests_total counter\n");
	for (size_t i = 0; i < m->nrequests; i++)
		buf_addf(out, "portolan_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
		         m->requests[i].route, m->requests[i].status, m->requests[i].count);
	buf_adds(out, "# HELP portolan_registrations_total Registrations by outcome.\n"
	              "# TYPE portolan_registrations_total counter\n");
	for (int i = 0; i < 4; i++)
		buf_addf(out, "portolan_registrations_total{outcome=\"%s\"} %llu\n", outcome[i],
		         m->registrations[i]);
	pthread_mutex_unlock(&m->lock);
}

void metrics_write_hooks(struct hooks *h, struct buf *out)
{
	unsigned long long runs[HOOKS_NKINDS][HOOKS_NRESULTS];
	hooks_stats(h, runs);
	buf_adds(out, "# HELP portolan_hook_runs_total Hook runs by hook and result.\n"
	              "# TYPE portolan_hook_runs_total counter\n");
	for (int k = 0; k < HOOKS_NKINDS; k++)
		for (int r = 0; r < HOOKS_NRESULTS; r++)
			buf_addf(out, "portolan_hook_runs_total{hook=\"%s\",result=\"%s\"} %llu\n",
			         hooks_name((enum hooks_kind)k),
			         hooks_result_name((enum hooks_result)r), runs[k][r]);
}
