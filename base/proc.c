#define _GNU_SOURCE
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *const empty_env[] = { NULL };

const char *proc_env_get(char *const envp[], const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], name, len) && envp[i][len] == '=')
			return envp[i] + len + 1;
	return NULL;
}

char *proc_find(const char *name, const char *path)
{
	if (strchr(name, '/'))
		return xstrdup(name);
	for (const char *p = path; p && *p;) {
		size_t len = strcspn(p, ":");
		if (len && p[0] == '/') {
			char *cand = xasprintf("%.*s/%s", (int)len, p, name);
			struct stat st;
			if (!stat(cand, &st) && S_ISREG(st.st_mode) && !access(cand, X_OK))
				return cand;
			free(cand);
		}
		p += len + (p[len] == ':');
	}
	return NULL;
}

/* Drain both pipes until EOF; -1 when a buffer overflows. */
static int drain(int outfd, int errfd, struct buf *out, struct buf *err)
{
	struct pollfd p[2] = { { outfd, POLLIN, 0 }, { errfd, POLLIN, 0 } };
	int open_fds = 2, rc = 0;
	char chunk[8192];
	while (open_fds) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(p[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			struct buf *b = i == 0 ? out : err;
			if (b && buf_append(b, chunk, (size_t)n) < 0)
				rc = -1; /* keep draining so the child can finish */
		}
	}
	return rc;
}

int proc_capture(char *const argv[], char *const envp[], const char *dir, struct buf *out, struct buf *err,
		 int *status)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc = -1;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char *prog = proc_find(argv[0], proc_env_get(envp, "PATH"));
	if (!prog) {
		errno = ENOENT; /* the words posix_spawnp used */
		error("cannot run '%s':", argv[0]);
		return -1;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		error("cannot create a pipe:");
		goto close;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	if (dir)
		posix_spawn_file_actions_addchdir_np(&fa, dir);
	int e = posix_spawn(&pid, prog, &fa, NULL, argv, envp ? envp : empty_env);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		errno = e;
		error("cannot run '%s':", argv[0]);
		goto close;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	int overflow = drain(outp[0], errp[0], out, err);
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (overflow < 0)
		error("'%s' printed more than %zu bytes", argv[0], out->max);
	else
		rc = 0;
close:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(prog);
	return rc;
}
