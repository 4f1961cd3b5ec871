/*
 * HTTP register load: C clients with keep-alive POST varied payloads to
 * /api/v1/register for 2,000 distinct services; reports requests/s and
 * latency percentiles. Every reply is checked for 200.
 * usage: register_bench HOST PORT TOKEN CLIENTS SECONDS [SERVICES]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1 << 21)

static const char *host, *token;
static int port;
static unsigned nservices = 2000;
static double deadline;
static double *samples;
static size_t nsamples;
static unsigned long long errors;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read one response; returns its status or -1. */
static int read_response(int fd, char *buf, size_t size)
{
	size_t have = 0;
	for (;;) {
		ssize_t n = read(fd, buf + have, size - have - 1);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		char *cl = strcasestr(buf, "Content-Length:");
		size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
		size_t need = (size_t)(end + 4 - buf) + body;
		while (have < need) {
			n = read(fd, buf + have, size - have - 1);
			if (n <= 0)
				return -1;
			have += (size_t)n;
		}
		return atoi(buf + 9);
	}
}

static void *client(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	int fd = connect_to();
	char req[2048], body[1024], resp[65536];
	double local[4096];
	size_t nlocal = 0;
	while (fd >= 0 && now_s() < deadline) {
		unsigned i = (unsigned)rand_r(&seed) % nservices;
		static const char *const st[] = {"running", "healthy", "restarting", "exited"};
		int blen =
		    snprintf(body, sizeof(body),
		             "{\"host\":\"bench%u\",\"container_name\":\"svc-%05u\","
		             "\"docker_status\":\"%s\",\"image_name\":\"ghcr.io/ex/app:1.%u\","
		             "\"container_id\":\"%08x\",\"stack_name\":\"s%u\"}",
		             i % 4, i, st[rand_r(&seed) % 4], i % 3, rand_r(&seed), i % 20);
		int len =
		    snprintf(req, sizeof(req),
		             "POST /api/v1/register HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer "
		             "%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		             host, token, blen, body);
		double t0 = now_s();
		if (write(fd, req, (size_t)len) != len ||
		    read_response(fd, resp, sizeof(resp)) != 200) {
			__sync_fetch_and_add(&errors, 1);
			close(fd);
			fd = connect_to();
			continue;
		}
		local[nlocal++] = now_s() - t0;
		if (nlocal == 4096) {
			pthread_mutex_lock(&lock);
			for (size_t k = 0; k < nlocal && nsamples < MAX_SAMPLES; k++)
				samples[nsamples++] = local[k];
			pthread_mutex_unlock(&lock);
			nlocal = 0;
		}
	}
	pthread_mutex_lock(&lock);
	for (size_t k = 0; k < nlocal && nsamples < MAX_SAMPLES; k++)
		samples[nsamples++] = local[k];
	pthread_mutex_unlock(&lock);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 6 && argc != 7) {
		fprintf(stderr,
		        "usage: register_bench HOST PORT TOKEN CLIENTS SECONDS [SERVICES]\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	token = argv[3];
	int clients = atoi(argv[4]);
	double secs = atof(argv[5]);
	if (argc == 7)
		nservices = (unsigned)atoi(argv[6]);
	samples = malloc(MAX_SAMPLES * sizeof(*samples));
	pthread_t *t = malloc((size_t)clients * sizeof(*t));
	double t0 = now_s();
	deadline = t0 + secs;
	for (int i = 0; i < clients; i++)
		pthread_create(&t[i], NULL, client, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < clients; i++)
		pthread_join(t[i], NULL);
	double dt = now_s() - t0;
	qsort(samples, nsamples, sizeof(*samples), cmp_double);
	double p50 = nsamples ? samples[nsamples / 2] : 0;
	double p99 = nsamples ? samples[(size_t)((double)nsamples * 0.99)] : 0;
	printf("%3d clients: %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %llu\n", clients,
	       (double)nsamples / dt, p50 * 1000, p99 * 1000, errors);
	free(samples);
	free(t);
	return errors ? 1 : 0;
}
