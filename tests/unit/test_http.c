/* Unit tests for base/http: the two policies, bounds, retries and
 * redirects, against a real HTTP server on loopback (python3's
 * http.server, started by the group setup). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/util.h"
#include "base/http.h"
#include "unit.h"

/* Paths: /ok "hello"; /big 100000 bytes; /flaky 503 twice, then "hello";
 * /busy 429; /missing 404 with a body; /moved 302 to /ok; /norange 416
 * to a range request; PUT answers 201
 * with the length it got as its body. */
static const char server_py[] =
	"import http.server, sys, threading\n"
	"counts = {}\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    protocol_version = 'HTTP/1.1'\n"
	"    def log_message(self, *a): pass\n"
	"    def send(self, code, body, extra=()):\n"
	"        self.send_response(code)\n"
	"        for k, v in extra: self.send_header(k, v)\n"
	"        self.send_header('Content-Length', str(len(body)))\n"
	"        self.end_headers()\n"
	"        if self.command != 'HEAD': self.wfile.write(body)\n"
	"    def do_GET(self):\n"
	"        n = counts[self.path] = counts.get(self.path, 0) + 1\n"
	"        if self.path == '/ok': self.send(200, b'hello')\n"
	"        elif self.path == '/big': self.send(200, b'x' * 100000)\n"
	"        elif self.path.startswith('/flaky'): self.send(503 if n <= 2 else 200, b'hello')\n"
	"        elif self.path == '/busy': self.send(429, b'slow down')\n"
	"        elif self.path == '/moved': self.send(302, b'', [('Location', '/ok')])\n"
	"        elif self.path == '/norange': self.send(416 if self.headers['Range'] else 200, b'hello')\n"
	"        else: self.send(404, b'no such thing ' * 100)\n"
	"    do_HEAD = do_GET\n"
	"    def do_PUT(self):\n"
	"        got = self.rfile.read(int(self.headers['Content-Length']))\n"
	"        self.send(201, str(len(got)).encode())\n"
	"class S(http.server.ThreadingHTTPServer):\n"
	"    def handle_error(self, *a): pass  # a client that hangs up early\n"
	"s = S(('127.0.0.1', 0), H)\n"
	"print(s.server_address[1], flush=True)\n"
	"threading.Thread(target=s.serve_forever, daemon=True).start()\n"
	"sys.stdin.read()\n";

static pid_t server_pid;
static FILE *server_stdin;
static char base[64];

static int group_setup(void **state)
{
	(void)state;
	int in[2], out[2];
	if (pipe(in) < 0 || pipe(out) < 0)
		return -1;
	server_pid = fork();
	if (server_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", "-c", server_py, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	server_stdin = fdopen(in[1], "w");
	FILE *f = fdopen(out[0], "r");
	int port = 0;
	if (!f || fscanf(f, "%d", &port) != 1 || port <= 0)
		return -1;
	fclose(f);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (server_stdin)
		fclose(server_stdin); /* the server exits at end of input */
	if (server_pid > 0)
		waitpid(server_pid, NULL, 0);
	return 0;
}

/* Fast retries, so that the tests take milliseconds. */
static struct http_policy quick(struct http_policy p)
{
	p.backoff_ms = 1;
	p.backoff_max_ms = 2;
	return p;
}

static int retries_seen;

static void count_retry(void *ud, const char *why, int attempt, int tries)
{
	(void)ud, (void)why, (void)attempt, (void)tries;
	retries_seen++;
}

/* GET base/path into memory (at most max bytes) under p. */
static int get(const struct http_policy *p, const char *path, size_t max, struct buf *b, struct http_result *res)
{
	char url[128];
	snprintf(url, sizeof(url), "%s%s", base, path);
	buf_init(b, max);
	struct http_request rq = { .url = url, .mem = b, .max = max, .retrying = count_retry };
	retries_seen = 0;
	return http_request(p, &rq, res);
}

static void test_http__policies_say_what_the_docs_say(void **state)
{
	(void)state;
	struct http_policy d = HTTP_POLICY_DOWNLOAD, c = HTTP_POLICY_CACHE;
	assert_int_equal(d.connect_ms, 30000);
	assert_int_equal(d.stall_bytes, 1024);
	assert_int_equal(d.stall_s, 30);
	assert_int_equal(d.tries, 5);
	assert_int_equal(d.backoff_ms, 500);
	assert_int_equal(d.backoff_max_ms, 8000);
	assert_true(d.retry_unreachable && d.retry_busy && d.allow_file && d.max_redirects > 0);
	assert_int_equal(c.connect_ms, 1500);
	assert_int_equal(c.stall_bytes, 1024);
	assert_int_equal(c.stall_s, 5);
	assert_int_equal(c.tries, 3);
	assert_int_equal(c.backoff_ms, 200);
	assert_int_equal(c.backoff_max_ms, 400);
	assert_false(c.retry_unreachable || c.retry_busy || c.allow_file || c.max_redirects);
	assert_true(c.bound_by_length);
}

static void test_http__gets_a_body_into_memory(void **state)
{
	(void)state;
	struct http_policy p = HTTP_POLICY_CACHE;
	struct http_result res;
	struct buf b;
	assert_int_equal(get(&p, "/ok", 100, &b, &res), 0);
	assert_true(res.ok);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "hello", 5);
	buf_release(&b);
}

static void test_http__a_body_past_max_stops_and_is_not_retried(void **state)
{
	(void)state;
	struct http_policy policies[] = { quick((struct http_policy)HTTP_POLICY_DOWNLOAD),
					  quick((struct http_policy)HTTP_POLICY_CACHE) };
	for (size_t i = 0; i < 2; i++) {
		struct http_result res;
		struct buf b;
		assert_int_equal(get(&policies[i], "/big", 99999, &b, &res), -1);
		assert_true(res.too_large);
		assert_false(res.ok);
		assert_int_equal(res.attempts, 1);
		assert_true(b.len <= 99999);
		buf_release(&b);
		assert_int_equal(get(&policies[i], "/big", 100000, &b, &res), 0);
		assert_int_equal(b.len, 100000);
		buf_release(&b);
	}
}

static void test_http__5xx_is_retried_then_answers(void **state)
{
	(void)state;
	struct http_policy p = quick((struct http_policy)HTTP_POLICY_CACHE);
	struct http_result res;
	struct buf b;
	assert_int_equal(get(&p, "/flaky1", 100, &b, &res), 0);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(retries_seen, 2);
	assert_int_equal(b.len, 5); /* the 503 bodies were not kept */
	buf_release(&b);
	p.tries = 2;
	assert_int_equal(get(&p, "/flaky2", 100, &b, &res), -1);
	assert_int_equal(res.status, 503);
	assert_true(res.transient);
	assert_string_equal(res.why, "HTTP 503");
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_http__busy_is_retried_by_downloads_only(void **state)
{
	(void)state;
	struct http_policy d = quick((struct http_policy)HTTP_POLICY_DOWNLOAD);
	struct http_policy c = quick((struct http_policy)HTTP_POLICY_CACHE);
	struct http_result res;
	struct buf b;
	assert_int_equal(get(&c, "/busy", 100, &b, &res), -1);
	assert_int_equal(res.status, 429);
	assert_int_equal(res.attempts, 1);
	buf_release(&b);
	assert_int_equal(get(&d, "/busy", 100, &b, &res), -1);
	assert_int_equal(res.attempts, d.tries);
	assert_int_equal(retries_seen, d.tries - 1);
	buf_release(&b);
}

static void test_http__an_error_page_is_an_answer_not_a_body(void **state)
{
	(void)state;
	struct http_policy p = quick((struct http_policy)HTTP_POLICY_CACHE);
	struct http_result res;
	struct buf b;
	assert_int_equal(get(&p, "/missing", 10, &b, &res), -1); /* its body is longer than max */
	assert_int_equal(res.status, 404);
	assert_false(res.too_large);
	assert_false(res.transient);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_http__redirects_follow_the_policy(void **state)
{
	(void)state;
	struct http_policy d = quick((struct http_policy)HTTP_POLICY_DOWNLOAD);
	struct http_policy c = quick((struct http_policy)HTTP_POLICY_CACHE);
	struct http_result res;
	struct buf b;
	assert_int_equal(get(&c, "/moved", 100, &b, &res), -1);
	assert_int_equal(res.status, 302);
	buf_release(&b);
	assert_int_equal(get(&d, "/moved", 100, &b, &res), 0);
	assert_int_equal(res.status, 200);
	assert_memory_equal(b.data, "hello", 5);
	buf_release(&b);
}

static void test_http__file_urls_only_where_allowed(void **state)
{
	(void)state;
	unit_write("f.txt", "local", 0644);
	char *path = unit_path("f.txt"), *url = xasprintf("file://%s", path);
	struct http_policy d = HTTP_POLICY_DOWNLOAD, c = HTTP_POLICY_CACHE;
	struct http_result res;
	struct buf b;
	buf_init(&b, 100);
	struct http_request rq = { .url = url, .mem = &b, .max = 100 };
	assert_int_equal(http_request(&c, &rq, &res), -1);
	assert_false(res.transient);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(http_request(&d, &rq, &res), 0);
	assert_int_equal(b.len, 5);
	buf_release(&b);
	free(url);
	free(path);
}

static void test_http__nobody_listening(void **state)
{
	(void)state;
	/* A port that was free a moment ago: connecting is refused. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	close(s);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", ntohs(a.sin_port));
	struct http_policy d = quick((struct http_policy)HTTP_POLICY_DOWNLOAD);
	struct http_policy c = quick((struct http_policy)HTTP_POLICY_CACHE);
	struct http_result res;
	struct http_request rq = { .url = url };
	assert_int_equal(http_request(&c, &rq, &res), -1);
	assert_int_equal(res.attempts, 1); /* the cache gives up at once */
	assert_int_equal(res.status, 0);
	assert_true(res.error[0] != '\0');
	d.tries = 2;
	assert_int_equal(http_request(&d, &rq, &res), -1);
	assert_int_equal(res.attempts, 2);
	assert_true(res.transient);
}

static int resume_at_3(struct http_request *rq, int attempt)
{
	(void)attempt;
	rq->resume_from = 3;
	return 0;
}

static int keep(void *ud, long status, const char *p, size_t len)
{
	(void)status;
	return buf_append(ud, p, len);
}

static void test_http__a_refused_range_is_said_not_retried(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof(url), "%s/norange", base);
	struct http_policy d = quick((struct http_policy)HTTP_POLICY_DOWNLOAD);
	struct http_result res;
	struct buf b;
	buf_init(&b, 100);
	struct http_request rq = { .url = url, .max = 100 };
	rq.sink = (struct http_sink){ .begin = resume_at_3, .write = keep, .ud = &b };
	assert_int_equal(http_request(&d, &rq, &res), -1);
	assert_true(res.range_refused);
	assert_int_equal(res.status, 416);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(b.len, 0);
	rq.sink.begin = NULL;
	rq.resume_from = 0;
	assert_int_equal(http_request(&d, &rq, &res), 0);
	assert_false(res.range_refused);
	assert_int_equal(b.len, 5);
	buf_release(&b);
}

static void test_http__put_sends_the_body(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof(url), "%s/store/x", base);
	struct http_policy c = HTTP_POLICY_CACHE;
	struct http_result res;
	struct http_request rq = { .url = url, .method = "PUT", .data = "0123456789", .len = 10 };
	assert_int_equal(http_request(&c, &rq, &res), 0);
	assert_int_equal(res.status, 201);
	rq = (struct http_request){ .url = url, .method = "HEAD" };
	snprintf(url, sizeof(url), "%s/ok", base);
	assert_int_equal(http_request(&c, &rq, &res), 0);
	assert_int_equal(res.status, 200);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	unit_group = "http";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http__policies_say_what_the_docs_say),
		cmocka_unit_test(test_http__gets_a_body_into_memory),
		cmocka_unit_test(test_http__a_body_past_max_stops_and_is_not_retried),
		cmocka_unit_test(test_http__5xx_is_retried_then_answers),
		cmocka_unit_test(test_http__busy_is_retried_by_downloads_only),
		cmocka_unit_test(test_http__an_error_page_is_an_answer_not_a_body),
		cmocka_unit_test(test_http__redirects_follow_the_policy),
		UNIT_TEST(test_http__file_urls_only_where_allowed),
		cmocka_unit_test(test_http__nobody_listening),
		cmocka_unit_test(test_http__a_refused_range_is_said_not_retried),
		cmocka_unit_test(test_http__put_sends_the_body),
	};
	return cmocka_run_group_tests_name("http", tests, group_setup, group_teardown);
}
