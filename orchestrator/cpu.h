/* cpu.h - the CPUs this process may use, and how to share them between
 * parallel `go build` jobs without oversubscribing the machine.
 *
 * Available CPUs = the affinity mask's count, capped by the CPU bandwidth
 * quota of our cgroup and of every ancestor (cgroup v2 cpu.max, v1
 * cpu.cfs_quota_us / cpu.cfs_period_us), rounded up, at least 1.
 */
#ifndef XGO_CPU_H
#define XGO_CPU_H

/* The CPUs available to this process (at least 1). */
int cpu_available(void);

/* The same, with the inputs injectable for tests: affinity is the affinity
 * count, self_cgroup a /proc/self/cgroup file, root the cgroup mount point
 * ("/sys/fs/cgroup"). */
int cpu_available_from(int affinity, const char *self_cgroup, const char *root);

/* The quota in CPUs (quota/period) from a cgroup v2 cpu.max text
 * ("max 100000", "150000 100000").  Returns 1 with *cpus set, 0 for no
 * limit, -1 (silently) for text it cannot parse. */
int cpu_parse_max(const char *text, double *cpus);
/* The same for cgroup v1 cpu.cfs_quota_us and cpu.cfs_period_us texts
 * (a quota of -1 means no limit). */
int cpu_parse_cfs(const char *quota, const char *period, double *cpus);

/* How to run jobs on cpus CPUs: run `parallel` = min(jobs, cpus) jobs at a
 * time, each with GOMAXPROCS=procs and `go build -p procs`, where procs =
 * cpus / parallel but at least 2 when cpus >= 2 (so at most 2x
 * oversubscribed).  See docs/runner.md for the measurements behind it. */
struct cpu_budget {
	int parallel;
	int procs;
};
struct cpu_budget cpu_budget(int jobs, int cpus);

/* The heap each Go process of the jobs may grow to before it collects
 * garbage: the jobs run with GOGC=off and GOMEMLIMIT=<this>MiB, since the
 * compiler spends about a quarter of its CPU time in its collector with
 * Go's default GOGC=100 (docs/runner.md).  Half the available memory
 * (MemAvailable, and our cgroup v2 memory.max), shared by up to
 * `processes` at once, at most 4 GiB each.  0: leave Go's default
 * collector, because that share is under 256 MiB, or because
 * XGO_GC_MEMLIMIT is 0 (XGO_GC_MEMLIMIT=N sets the share to N MiB). */
long long cpu_gc_limit_mib(int processes);
/* The same from the available memory in MiB (tests). */
long long cpu_gc_limit_from(long long available_mib, int processes);

#endif
