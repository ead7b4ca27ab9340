/* cpu.c - available CPUs (affinity and cgroup quota) and the job budget. */
#define _GNU_SOURCE
#include "cpu.h"
#include "base/util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CGROUP_FILE_MAX 65536

/* Read a small file silently: a missing cgroup file is normal. */
static char *slurp(const char *path)
{
	int saved = error_quiet(1);
	char *text = read_file(path, CGROUP_FILE_MAX, NULL);
	error_quiet(saved);
	return text;
}

static int parse_ll(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	while (*end == ' ' || *end == '\n')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int cpu_parse_max(const char *text, double *cpus)
{
	char quota[32];
	long long period;
	const char *sp = strchr(text, ' ');
	if (!sp || (size_t)(sp - text) >= sizeof(quota))
		return -1;
	memcpy(quota, text, (size_t)(sp - text));
	quota[sp - text] = '\0';
	if (parse_ll(sp + 1, &period) < 0 || period <= 0)
		return -1;
	if (!strcmp(quota, "max"))
		return 0;
	return cpu_parse_cfs(quota, sp + 1, cpus);
}

int cpu_parse_cfs(const char *quota, const char *period, double *cpus)
{
	long long q, p;
	if (parse_ll(quota, &q) < 0 || parse_ll(period, &p) < 0 || p <= 0)
		return -1;
	if (q < 0) /* -1: no limit */
		return 0;
	if (q == 0)
		return -1;
	*cpus = (double)q / (double)p;
	return 1;
}

/* The quota of one cgroup directory, v2 or v1 files: 1 with *cpus, 0 none. */
static int dir_limit(const char *dir, double *cpus)
{
	char *path = xasprintf("%s/cpu.max", dir);
	char *max = slurp(path);
	int rc = 0;
	free(path);
	if (max) {
		rc = cpu_parse_max(max, cpus);
		free(max);
		return rc > 0;
	}
	char *qpath = xasprintf("%s/cpu.cfs_quota_us", dir);
	char *ppath = xasprintf("%s/cpu.cfs_period_us", dir);
	char *q = slurp(qpath), *p = slurp(ppath);
	if (q && p)
		rc = cpu_parse_cfs(q, p, cpus) > 0;
	free(q);
	free(p);
	free(qpath);
	free(ppath);
	return rc;
}

/* The smallest quota on the way from the cgroup at mount/path up to the
 * mount's root: any ancestor's quota limits us too.  Directories that do
 * not exist (a container whose cgroup path is not its mount's) are skipped. */
static void walk_up(const char *mount, const char *path, double *best)
{
	char *p = xstrdup(path);
	for (;;) {
		char *dir = xasprintf("%s%s", mount, strcmp(p, "/") ? p : "");
		double c;
		if (dir_limit(dir, &c) && (*best <= 0 || c < *best))
			*best = c;
		free(dir);
		char *slash = strrchr(p, '/');
		if (!slash || slash == p) {
			if (!strcmp(p, "/") || !slash)
				break;
			p[1] = '\0'; /* go on with the root itself */
			continue;
		}
		*slash = '\0';
	}
	free(p);
}

/* Does the comma-separated controller list name "cpu"? */
static int has_cpu(const char *list, size_t len)
{
	while (len) {
		size_t n = 0;
		while (n < len && list[n] != ',')
			n++;
		if (n == 3 && !strncmp(list, "cpu", 3))
			return 1;
		list += n;
		len -= n;
		if (len) {
			list++;
			len--;
		}
	}
	return 0;
}

int cpu_available_from(int affinity, const char *self_cgroup, const char *root)
{
	double limit = 0;
	char *text = slurp(self_cgroup);
	for (char *line = text; line && *line; ) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		/* "ID:CONTROLLERS:PATH" */
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 && c2[1] == '/') {
			if (c2 == c1 + 1 && !strncmp(line, "0:", 2)) {
				walk_up(root, c2 + 1, &limit); /* v2 */
			} else if (has_cpu(c1 + 1, (size_t)(c2 - c1 - 1))) {
				char *named = xasprintf("%s/%.*s", root, (int)(c2 - c1 - 1), c1 + 1);
				char *plain = xasprintf("%s/cpu", root);
				walk_up(plain, c2 + 1, &limit);
				if (strcmp(named, plain))
					walk_up(named, c2 + 1, &limit);
				free(named);
				free(plain);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	int cpus = affinity > 0 ? affinity : 1;
	if (limit > 0) {
		int quota = (int)limit;
		if (quota < limit)
			quota++; /* 1.5 CPUs: 2 processes can use them */
		if (quota < cpus)
			cpus = quota;
	}
	return cpus > 0 ? cpus : 1;
}

int cpu_available(void)
{
	cpu_set_t set;
	int affinity = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		affinity = CPU_COUNT(&set);
	return cpu_available_from(affinity, "/proc/self/cgroup", "/sys/fs/cgroup");
}

/* Whole jobs are the better unit of parallelism (one go build cannot keep
 * the CPUs busy), and each job gets at least 2 procs when there are 2 CPUs,
 * so that its go command, I/O and serial link overlap with compiles: at
 * most 2x oversubscription.  Measurements: docs/runner.md. */
struct cpu_budget cpu_budget(int jobs, int cpus)
{
	struct cpu_budget b;
	if (jobs < 1)
		jobs = 1;
	if (cpus < 1)
		cpus = 1;
	b.parallel = jobs < cpus ? jobs : cpus;
	b.procs = cpus / b.parallel;
	if (b.procs < 2)
		b.procs = cpus < 2 ? 1 : 2;
	return b;
}

#define GC_LIMIT_MIN_MIB 256
#define GC_LIMIT_MAX_MIB 4096

long long cpu_gc_limit_from(long long available_mib, int processes)
{
	if (processes < 1)
		processes = 1;
	long long share = available_mib / 2 / processes;
	if (share > GC_LIMIT_MAX_MIB)
		share = GC_LIMIT_MAX_MIB;
	return share < GC_LIMIT_MIN_MIB ? 0 : share;
}

/* The value of "Key:   N kB" in /proc/meminfo text, in MiB; -1 if absent. */
static long long meminfo_mib(const char *text, const char *key)
{
	const char *p = text ? strstr(text, key) : NULL;
	long long kb;
	if (!p || sscanf(p + strlen(key), " %lld", &kb) != 1)
		return -1;
	return kb / 1024;
}

/* What our cgroup v2 memory.max leaves (max - current) in MiB; -1: no limit. */
static long long cgroup_room_mib(void)
{
	char *self = slurp("/proc/self/cgroup"), *max = NULL, *cur = NULL;
	long long room = -1, m, c;
	if (self && !strncmp(self, "0::/", 4)) {
		self[strcspn(self, "\n")] = '\0';
		char *dir = xasprintf("/sys/fs/cgroup%s", strcmp(self + 3, "/") ? self + 3 : "");
		char *pmax = xasprintf("%s/memory.max", dir), *pcur = xasprintf("%s/memory.current", dir);
		max = slurp(pmax);
		cur = slurp(pcur);
		if (max && cur && parse_ll(max, &m) == 0 && parse_ll(cur, &c) == 0 && m > c)
			room = (m - c) >> 20;
		free(dir);
		free(pmax);
		free(pcur);
	}
	free(self);
	free(max);
	free(cur);
	return room;
}

long long cpu_gc_limit_mib(int processes)
{
	const char *set = getenv("XGO_GC_MEMLIMIT");
	long long v;
	if (set && *set)
		return parse_ll(set, &v) == 0 && v > 0 ? v : 0;
	char *text = slurp("/proc/meminfo");
	long long avail = meminfo_mib(text, "MemAvailable:"), room = cgroup_room_mib();
	free(text);
	if (room >= 0 && (avail < 0 || room < avail))
		avail = room;
	return avail > 0 ? cpu_gc_limit_from(avail, processes) : 0;
}
