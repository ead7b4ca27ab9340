/* release.c - load release.lua in a sandboxed Lua state (the DSL itself is
 * lua/prelude.lua) and convert its declarations into struct release. */
#define _POSIX_C_SOURCE 200809L
#include "release.h"
#include "lua_embed.h"
#include "base/hash.h"
#include "base/path.h"
#include "toolchains/lockfile.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define DEFAULT_MAX_BYTES (64u << 20)
#define DEFAULT_MAX_INSTR 100000000ul
#define DEFAULT_MAX_SECONDS 10
#define HOOK_EVERY 1000
#define MAX_FILE_BYTES (1u << 20)
#define MAX_STRING 4096
#define MAX_LIST 1024

/* The allocator's user data: the byte cap and the instruction budget. */
struct limits {
	size_t used, cap;
	unsigned long instr, max_instr;
	unsigned max_seconds;
	int mem_hit, instr_hit;
};

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct limits *lim = ud;
	size_t old = ptr ? osize : 0;
	if (nsize == 0) {
		free(ptr);
		lim->used -= old;
		return NULL;
	}
	if (nsize > old && nsize - old > lim->cap - lim->used) {
		lim->mem_hit = 1;
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (p)
		lim->used = lim->used - old + nsize;
	return p;
}

static void l_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	void *ud;
	lua_getallocf(L, &ud);
	struct limits *lim = ud;
	lim->instr += HOOK_EVERY;
	if (lim->instr > lim->max_instr) {
		lim->instr_hit = 1;
		luaL_where(L, 0); /* level 0 is the hooked function, not a caller */
		lua_pushfstring(L, "instruction limit of %I exceeded (an endless loop?)", (lua_Integer)lim->max_instr);
		lua_concat(L, 2);
		lua_error(L);
	}
}

static int l_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	fatal(EXIT_USAGE, "lua panic: %s", msg ? msg : "(no message)");
}

/* where(): the current line in the build file, found by walking the stack
 * to the first frame whose chunk is the build file. */
static int l_where(lua_State *L)
{
	const char *chunk = lua_tostring(L, lua_upvalueindex(1));
	lua_Debug ar;
	for (int level = 1; lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (chunk && !strcmp(ar.source, chunk) && ar.currentline > 0) {
			lua_pushinteger(L, ar.currentline);
			return 1;
		}
	}
	lua_pushinteger(L, 0);
	return 1;
}

/* s for an error message: printable ASCII as is, other bytes as \xNN, at
 * most about 60 bytes of it. */
static const char *shown(const char *s, char *buf, size_t cap)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 8 < cap; p++) {
		if (o > 60) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			buf[o++] = (char)*p;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", *p);
	}
	buf[o] = '\0';
	return buf;
}

/* env(name, default): registry table "xgo.env" maps name -> {value, default}. */
/* An error without a position: the message handler puts the build file's
 * line in front (luaL_error would name the prelude's). */
static int env_error(lua_State *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	return lua_error(L);
}

static int l_env_read(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *def = luaL_optstring(L, 2, NULL);
	char buf[96];
	/* Refused here, where the file's line is known: a name or value that is
	 * not text would be lost from manifest.json. */
	if (!*name || strchr(name, '=') || !utf8_valid(name) || strlen(name) != lua_rawlen(L, 1))
		return env_error(L, "env: '%s' is not a variable name", shown(name, buf, sizeof(buf)));
	const char *val = getenv(name);
	if (val && !utf8_valid(val))
		return env_error(L, "env: the value of %s is not valid UTF-8: \"%s\" (set it to text)", name,
				  shown(val, buf, sizeof(buf)));
	if (def && (!utf8_valid(def) || strlen(def) != lua_rawlen(L, 2)))
		return env_error(L, "env: the default for %s is not valid UTF-8 text: \"%s\"", name,
				  shown(def, buf, sizeof(buf)));
	lua_getfield(L, LUA_REGISTRYINDEX, "xgo.env");
	if (lua_getfield(L, -1, name) == LUA_TNIL) {
		lua_pop(L, 1);
		lua_createtable(L, 0, 2);
		if (val)
			lua_pushstring(L, val);
		else if (def)
			lua_pushstring(L, def);
		else
			lua_pushnil(L);
		lua_setfield(L, -2, "value");
		lua_pushboolean(L, val == NULL);
		lua_setfield(L, -2, "from_default");
		lua_setfield(L, -2, name);
	} else {
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (val)
		lua_pushstring(L, val);
	else if (def)
		lua_pushstring(L, def);
	else
		lua_pushnil(L);
	return 1;
}

/* print(): one line to stderr, built whole before it is written, so that a
 * __tostring that fails (or runs into a limit) leaves no half line in front
 * of the error message. */
static int l_print_err(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addstring(&b, "release.lua: ");
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_addchar(&b, '\n');
	luaL_pushresult(&b);
	size_t len;
	const char *line = lua_tolstring(L, -1, &len);
	fwrite(line, 1, len, stderr);
	return 0;
}

/* Open the libraries the build file may use and run the prelude, in a
 * protected call (lua_pcall of this function): every step allocates, and
 * an allocation failure outside a protected call would be a Lua panic.
 * Argument: the build file's chunk name.  Returns the sandbox env, the
 * decls table and the message handler for the file's run. */
static int l_msgh(lua_State *L);

static int l_setup(lua_State *L)
{
	const char *chunk = lua_touserdata(L, 1);
	static const luaL_Reg libs[] = {
		{ LUA_GNAME, luaopen_base },
		{ LUA_STRLIBNAME, luaopen_string },
		{ LUA_TABLIBNAME, luaopen_table },
		{ LUA_MATHLIBNAME, luaopen_math },
		{ LUA_UTF8LIBNAME, luaopen_utf8 },
	};
	for (size_t i = 0; i < ARRAY_LEN(libs); i++) {
		luaL_requiref(L, libs[i].name, libs[i].func, 1);
		lua_pop(L, 1);
	}
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "xgo.env");
	const struct embedded_file *pre = NULL;
	for (size_t i = 0; i < embedded_lua_count; i++)
		if (!strcmp(embedded_lua[i].name, "prelude"))
			pre = &embedded_lua[i];
	if (!pre)
		return luaL_error(L, "the DSL prelude is not embedded");
	if (luaL_loadbufferx(L, (const char *)pre->data, pre->len, "=prelude", "t") != LUA_OK)
		return lua_error(L);
	lua_pushstring(L, chunk);
	lua_pushcclosure(L, l_where, 1);
	lua_pushcfunction(L, l_env_read);
	lua_pushcfunction(L, l_print_err);
	lua_call(L, 3, 2);
	lua_pushstring(L, chunk);
	lua_pushcclosure(L, l_msgh, 1);
	return 3;
}

/* A state with the sandbox env, the decls table and the message handler
 * on its stack (1, 2, 3), or NULL with error(). */
static lua_State *new_state(struct limits *lim, const char *chunk, const char *path)
{
	lua_State *L = lua_newstate(l_alloc, lim);
	if (!L) {
		error("cannot create a Lua state for '%s': out of memory", path);
		return NULL;
	}
	lua_atpanic(L, l_panic);
	lua_pushcfunction(L, l_setup);
	lua_pushlightuserdata(L, (void *)chunk);
	int st = lua_pcall(L, 1, 3, 0);
	if (st == LUA_OK)
		return L;
	if (st == LUA_ERRMEM)
		error("cannot set up the Lua state for '%s': out of memory", path);
	else
		error("internal: prelude: %s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "(no message)");
	lua_close(L);
	return NULL;
}

/* The watchdog (release.h): its message is formatted before it is armed,
 * the handler only writes it and exits. */
static char watchdog_msg[512];
static size_t watchdog_len;

static void watchdog(int sig)
{
	(void)sig;
	if (write(2, watchdog_msg, watchdog_len) < 0) {
		/* nothing more to do: we are exiting */
	}
	_exit(EXIT_USAGE);
}

static void watchdog_arm(const char *path, unsigned seconds, struct sigaction *old)
{
	int n = snprintf(watchdog_msg, sizeof(watchdog_msg),
			 "xgo-build: error: %s: time limit of %u s exceeded while running the build file "
			 "(a string pattern that backtracks without end?)\n", path, seconds);
	watchdog_len = n < 0 ? 0 : (size_t)n < sizeof(watchdog_msg) ? (size_t)n : sizeof(watchdog_msg) - 1;
	struct sigaction sa = { .sa_handler = watchdog };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGVTALRM, &sa, old);
	struct itimerval it = { .it_value = { .tv_sec = (time_t)seconds } };
	setitimer(ITIMER_VIRTUAL, &it, NULL);
}

static void watchdog_disarm(const struct sigaction *old)
{
	struct itimerval off = { 0 };
	setitimer(ITIMER_VIRTUAL, &off, NULL);
	sigaction(SIGVTALRM, old, NULL);
}

/* The line of the deepest bracket nesting in text: the best line known for
 * a parser error without one ("C stack overflow" from nested constructors).
 * Strings and comments are skipped roughly; this only picks a line. */
static int deepest_line(const char *text, size_t len)
{
	int line = 1, best = 1, depth = 0, max = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (ch == '\n') {
			line++;
		} else if (ch == '-' && i + 1 < len && text[i + 1] == '-') {
			while (i + 1 < len && text[i + 1] != '\n')
				i++;
		} else if (ch == '"' || ch == '\'') {
			while (i + 1 < len && text[i + 1] != ch && text[i + 1] != '\n')
				i += text[i + 1] == '\\' ? 2 : 1;
			i++;
		} else if (ch == '{' || ch == '(' || ch == '[') {
			if (++depth > max) {
				max = depth;
				best = line;
			}
		} else if ((ch == '}' || ch == ')' || ch == ']') && depth > 0) {
			depth--;
		}
	}
	return best;
}

/* The build file's innermost frame on the stack: its short source name
 * (what Lua puts in front of its messages) and current line. */
static int file_frame(lua_State *L, const char *chunk, char *src, size_t srclen)
{
	lua_Debug ar;
	for (int level = 0; lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (!strcmp(ar.source, chunk) && ar.currentline > 0) {
			snprintf(src, srclen, "%s", ar.short_src);
			return ar.currentline;
		}
	}
	return 0;
}

/* Message handler of the build file's run: every error names the file and
 * the best line known.  A message without the file's position gets it; an
 * error value that is not a string is described by its type (its
 * __tostring is not called: that would run the file's code here). */
static int l_msgh(lua_State *L)
{
	const char *chunk = lua_tostring(L, lua_upvalueindex(1));
	const char *path = chunk + 1; /* "@path" */
	char src[LUA_IDSIZE + 8] = "";
	int line = file_frame(L, chunk, src, sizeof(src));
	if (lua_type(L, 1) == LUA_TSTRING) {
		const char *msg = lua_tostring(L, 1);
		size_t n = strlen(src);
		if (n && !strncmp(msg, src, n) && msg[n] == ':')
			return 1; /* the position is there already */
		if (!strncmp(msg, "prelude:", 8) && strstr(msg, ": "))
			msg = strstr(msg, ": ") + 2; /* the DSL's own line means nothing to the user */
		if (!line)
			lua_pushfstring(L, "%s: %s", path, msg);
		else
			lua_pushfstring(L, "%s:%d: %s", path, line, msg);
		return 1;
	}
	const char *kind = lua_typename(L, lua_type(L, 1));
	if (lua_type(L, 1) == LUA_TNUMBER)
		lua_pushfstring(L, "%s:%d: error(%s): the error value is a number, not a string (give a message: "
			        "error(\"...\"))", path, line, lua_tostring(L, 1));
	else
		lua_pushfstring(L, "%s:%d: the error value is %s%s, not a string (give a message: error(\"...\"))",
			        path, line, lua_type(L, 1) == LUA_TNIL ? "" : "a ", kind);
	return 1;
}

/* Run the file with the sandbox at env_idx and the message handler at msgh. */
static int run_file(lua_State *L, struct limits *lim, const char *path, int env_idx, int msgh)
{
	size_t len;
	char *text = read_file(path, MAX_FILE_BYTES, &len);
	if (!text)
		return -1;
	if (len && text[0] == LUA_SIGNATURE[0]) {
		free(text);
		return error("%s: precompiled Lua bytecode is not accepted; give the build file as text", path);
	}
	char *chunk = xasprintf("@%s", path);
	int st = luaL_loadbufferx(L, text, len, chunk, "t");
	if (st != LUA_OK) {
		const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "cannot load the build file";
		if (st == LUA_ERRMEM || lim->mem_hit)
			error("%s: memory limit of %zu MiB exceeded while reading the build file", path, lim->cap >> 20);
		else if (strstr(msg, "C stack overflow") == msg)
			error("%s:%d: %s (nested too deeply: at most about 190 levels of { }, ( ) and [ ])", path,
			      deepest_line(text, len), msg);
		else
			error("%s", msg);
		lua_pop(L, 1);
		goto out;
	}
	lua_pushvalue(L, env_idx);
	lua_setupvalue(L, -2, 1);
	/* The limits stay on until the state is closed (release_load). */
	lua_sethook(L, l_hook, LUA_MASKCOUNT, HOOK_EVERY);
	st = lua_pcall(L, 0, 0, msgh);
	if (st == LUA_OK)
		goto out;
	if (st == LUA_ERRMEM || lim->mem_hit)
		error("%s: memory limit of %zu MiB exceeded while running the build file (a runaway recursion or "
		      "table?)", path, lim->cap >> 20);
	else if (st == LUA_ERRERR)
		error("%s: error while handling an error of the build file (out of memory, or a C stack overflow)", path);
	else
		error("%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "error object is not a string");
	lua_pop(L, 1);
out:
	free(chunk);
	free(text);
	return st == LUA_OK ? 0 : -1;
}

/* ---- conversion: Lua tables -> C values, with file:line errors ---- */

/* Conversion reads tables with raw access only (raw_field, lua_rawgeti,
 * lua_rawlen, lua_next): a metamethod the build file set (__index, __len,
 * __pairs) never runs here, so no code of the file runs after run_file. */
static int raw_field(lua_State *L, int t, const char *key)
{
	t = lua_absindex(L, t);
	lua_pushstring(L, key);
	return lua_rawget(L, t);
}

struct conv {
	lua_State *L;
	const char *file;
	int line;
	char what[160]; /* "build 'hello'" */
};

static int conv_error(struct conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int conv_error(struct conv *c, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error("%s:%d: %s: %s", c->file, c->line, c->what, msg);
}

static const char *lua_kind(lua_State *L, int idx)
{
	return lua_typename(L, lua_type(L, idx));
}

/* A declaration's tables are read raw: one with a metatable would lose
 * what its __index, __len or __pairs gives, so it is refused instead. */
static int plain_table(struct conv *c, int idx, const char *key)
{
	if (!lua_getmetatable(c->L, idx))
		return 0;
	lua_pop(c->L, 1);
	return conv_error(c, "%s%s%s a table with a metatable; declarations are read as plain tables (their "
			  "__index, __len and __pairs are not used): copy the fields in instead",
			  key ? "'" : "the declaration", key ? key : "", key ? "' is" : " is");
}

/* Every key of the table at idx must be one of allowed[]. */
static int check_keys(struct conv *c, int idx, const char *const *allowed, size_t n)
{
	lua_State *L = c->L;
	idx = lua_absindex(L, idx);
	if (plain_table(c, idx, NULL) < 0)
		return -1;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			return conv_error(c, "unexpected list item; give named keys (%s = ...)", allowed[0]);
		}
		const char *key = lua_tostring(L, -1);
		size_t i;
		for (i = 0; i < n && strcmp(key, allowed[i]); i++)
			;
		if (i == n) {
			const char *s = suggest(key, allowed, n);
			char hint[96] = "";
			if (s)
				snprintf(hint, sizeof(hint), " (did you mean '%s'?)", s);
			conv_error(c, "unknown key '%s'%s", key, hint);
			lua_pop(L, 1);
			return -1;
		}
	}
	return 0;
}

static int to_string(struct conv *c, int idx, const char *key, char **out)
{
	lua_State *L = c->L;
	if (lua_type(L, idx) != LUA_TSTRING)
		return conv_error(c, "'%s' must be a string, not a %s%s", key, lua_kind(L, idx),
				  lua_type(L, idx) == LUA_TNUMBER ? " (quote it: \"...\")" : "");
	size_t len;
	const char *s = lua_tolstring(L, idx, &len);
	if (len > MAX_STRING)
		return conv_error(c, "'%s' is longer than %d bytes", key, MAX_STRING);
	if (strlen(s) != len)
		return conv_error(c, "'%s' contains a NUL byte", key);
	char buf[96];
	if (!utf8_valid(s))
		return conv_error(c, "'%s' is not valid UTF-8: \"%s\" (write text, or \\u{...} escapes)", key,
				  shown(s, buf, sizeof(buf)));
	*out = xstrdup(s);
	return 0;
}

/* Optional string field; *out keeps def (copied) when absent. */
static int get_str(struct conv *c, int t, const char *key, char **out, const char *def)
{
	int rc = 0;
	raw_field(c->L, t, key);
	if (lua_isnil(c->L, -1))
		*out = def ? xstrdup(def) : NULL;
	else
		rc = to_string(c, -1, key, out);
	lua_pop(c->L, 1);
	return rc;
}

static int get_bool(struct conv *c, int t, const char *key, int *out, int def)
{
	int rc = 0;
	raw_field(c->L, t, key);
	if (lua_isnil(c->L, -1))
		*out = def;
	else if (lua_type(c->L, -1) == LUA_TBOOLEAN)
		*out = lua_toboolean(c->L, -1);
	else
		rc = conv_error(c, "'%s' must be true or false, not a %s", key, lua_kind(c->L, -1));
	lua_pop(c->L, 1);
	return rc;
}

/* A string or a list of strings at idx. */
static int to_strlist(struct conv *c, int idx, const char *key, struct strv *out)
{
	lua_State *L = c->L;
	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) == LUA_TSTRING) {
		char *s;
		if (to_string(c, idx, key, &s) < 0)
			return -1;
		strv_push_owned(out, s);
		return 0;
	}
	if (lua_type(L, idx) != LUA_TTABLE)
		return conv_error(c, "'%s' must be a list of strings, not a %s", key, lua_kind(L, idx));
	if (plain_table(c, idx, key) < 0)
		return -1;
	lua_Unsigned n = lua_rawlen(L, idx);
	if (n > MAX_LIST)
		return conv_error(c, "'%s' has more than %d items", key, MAX_LIST);
	/* Only a sequence: named keys would be silently ignored otherwise. */
	size_t count = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		count++;
	}
	if (count != n)
		return conv_error(c, "'%s' must be a list of strings { \"a\", \"b\" }, without named keys", key);
	for (lua_Unsigned i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, (lua_Integer)i);
		char *s;
		char item[80];
		snprintf(item, sizeof(item), "%s[%llu]", key, (unsigned long long)i);
		int rc = to_string(c, -1, item, &s);
		lua_pop(L, 1);
		if (rc < 0)
			return -1;
		strv_push_owned(out, s);
	}
	return 0;
}

static int get_strlist(struct conv *c, int t, const char *key, struct strv *out)
{
	int rc = 0;
	raw_field(c->L, t, key);
	if (!lua_isnil(c->L, -1))
		rc = to_strlist(c, -1, key, out);
	lua_pop(c->L, 1);
	return rc;
}

/* ---- declarations ---- */

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* {version} is expanded into ldflags, which go splits at spaces and
 * quotes: "1 -o x" would be a linker flag writing outside dist/. */
static int version_is_one_word(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '\'' || *p == '"' || *p == '\\')
			return 0;
	return 1;
}

static int version_ok(const char *v)
{
	return *v && !strchr(v, '/') && !strstr(v, "..") && version_is_one_word(v);
}

static int conv_project(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "name", "version", "source_date_epoch" };
	if (r->project)
		return conv_error(c, "declared twice (first at line %d)", r->project_line);
	r->project_line = c->line;
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 ||
	    get_str(c, t, "name", &r->project, NULL) < 0 ||
	    get_str(c, t, "version", &r->version, NULL) < 0 ||
	    get_str(c, t, "source_date_epoch", &r->source_date_epoch, NULL) < 0)
		return -1;
	if (r->source_date_epoch) {
		const char *p = r->source_date_epoch;
		while (*p >= '0' && *p <= '9')
			p++;
		if (!*r->source_date_epoch || *p || strlen(r->source_date_epoch) > 18)
			return conv_error(c, "source_date_epoch '%s' must be seconds since 1970, such as \"1700000000\"",
					  r->source_date_epoch);
	}
	if (!r->project)
		return conv_error(c, "'name' is required: project { name = \"hello\" }");
	if (!valid_name(r->project))
		return conv_error(c, "name '%s' may use only letters, digits, '-', '_' and '.'", r->project);
	if (r->version && !version_ok(r->version))
		return conv_error(c, "version '%s' must be non-empty, without '/', '..', spaces, quotes or control "
				  "characters", r->version);
	return 0;
}

/* "1.26.8", "1.27rc1"; a leading "go" is accepted and dropped. */
static int valid_go_version(const char *v)
{
	const char *p = v;
	int dots = 0;
	if (*p++ != '1' || *p++ != '.' || !('0' <= *p && *p <= '9'))
		return 0;
	while (('0' <= *p && *p <= '9') || *p == '.') {
		if (*p == '.' && (++dots > 1 || !('0' <= p[1] && p[1] <= '9')))
			return 0;
		p++;
	}
	if (!strncmp(p, "rc", 2) || !strncmp(p, "beta", 4)) {
		p += *p == 'r' ? 2 : 4;
		if (!('0' <= *p && *p <= '9'))
			return 0;
		while ('0' <= *p && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static int conv_go(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "version", "mirror" };
	char *v = NULL;
	if (r->go_version)
		return conv_error(c, "declared twice (first at line %d)", r->go_line);
	r->go_line = c->line;
	if (lua_type(c->L, t) == LUA_TSTRING) {
		if (to_string(c, t, "version", &v) < 0)
			return -1;
	} else if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 ||
		   get_str(c, t, "version", &v, NULL) < 0 ||
		   get_str(c, t, "mirror", &r->sdk_mirror, NULL) < 0) {
		free(v);
		return -1;
	}
	if (!v)
		return conv_error(c, "'version' is required: go \"1.26.8\"");
	const char *plain = strncmp(v, "go", 2) ? v : v + 2;
	if (!valid_go_version(plain)) {
		conv_error(c, "'%s' is not a Go release version such as \"1.26.8\"", v);
		free(v);
		return -1;
	}
	r->go_version = xstrdup(plain);
	free(v);
	return 0;
}

static int conv_dim(struct conv *c, int idx, const char *key, struct mx_dim *d)
{
	lua_State *L = c->L;
	idx = lua_absindex(L, idx);
	d->key = xstrdup(key);
	if (lua_type(L, idx) == LUA_TBOOLEAN) {
		strv_push(&d->vals, lua_toboolean(L, idx) ? "true" : "false");
		d->has_bool = 1;
		return 0;
	}
	if (lua_type(L, idx) == LUA_TSTRING) {
		d->has_string = 1;
		return to_strlist(c, idx, key, &d->vals);
	}
	if (lua_type(L, idx) != LUA_TTABLE)
		return conv_error(c, "'%s' must be a string, a boolean or a list of them, not a %s", key,
				  lua_kind(L, idx));
	if (plain_table(c, idx, key) < 0)
		return -1;
	lua_Unsigned n = lua_rawlen(L, idx);
	if (n == 0)
		return conv_error(c, "'%s' is an empty list", key);
	if (n > MAX_LIST)
		return conv_error(c, "'%s' has more than %d items", key, MAX_LIST);
	for (lua_Unsigned i = 1; i <= n; i++) {
		int type = lua_rawgeti(L, idx, (lua_Integer)i);
		if (type == LUA_TBOOLEAN) {
			strv_push(&d->vals, lua_toboolean(L, -1) ? "true" : "false");
			d->has_bool = 1;
		} else if (type == LUA_TSTRING) {
			char *s;
			if (to_string(c, -1, key, &s) < 0) {
				lua_pop(L, 1);
				return -1;
			}
			strv_push_owned(&d->vals, s);
			d->has_string = 1;
		} else {
			lua_pop(L, 1);
			return conv_error(c, "'%s' item %llu must be a string or boolean, not a %s", key,
					  (unsigned long long)i, lua_typename(L, type));
		}
		lua_pop(L, 1);
	}
	return 0;
}

/* The table at idx as a set of dimensions; keys named in skip are left. */
static int conv_set(struct conv *c, int idx, struct mx_set *set, const char *skip1, const char *skip2)
{
	lua_State *L = c->L;
	idx = lua_absindex(L, idx);
	set->line = c->line;
	if (plain_table(c, idx, "matrix") < 0)
		return -1;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING) {
			lua_pop(L, 2);
			return conv_error(c, "unexpected list item; give named dimensions (goos = { ... })");
		}
		const char *key = lua_tostring(L, -2);
		if ((skip1 && !strcmp(key, skip1)) || (skip2 && !strcmp(key, skip2))) {
			lua_pop(L, 1);
			continue;
		}
		set->dims = xreallocarray(set->dims, set->ndims + 1, sizeof(*set->dims));
		struct mx_dim *d = &set->dims[set->ndims++];
		memset(d, 0, sizeof(*d));
		int rc = conv_dim(c, -1, key, d);
		lua_pop(L, 1);
		if (rc < 0) {
			lua_pop(L, 1);
			return -1;
		}
	}
	/* lua_next order is unspecified: sort by key so that everything after
	 * this stage sees one order. */
	for (size_t i = 1; i < set->ndims; i++)
		for (size_t j = i; j > 0 && strcmp(set->dims[j - 1].key, set->dims[j].key) > 0; j--) {
			struct mx_dim tmp = set->dims[j];
			set->dims[j] = set->dims[j - 1];
			set->dims[j - 1] = tmp;
		}
	return 0;
}

/* Push field key of table t.  Returns 1 when it is a table, 0 when it is
 * absent, -1 (after an error with hint) when it is something else; the
 * value stays pushed in every case. */
static int table_field(struct conv *c, int t, const char *key, const char *hint)
{
	raw_field(c->L, t, key);
	if (lua_isnil(c->L, -1))
		return 0;
	if (lua_type(c->L, -1) != LUA_TTABLE)
		return conv_error(c, "'%s' must be %s", key, hint);
	return plain_table(c, -1, key) < 0 ? -1 : 1;
}

static int conv_sets(struct conv *c, int t, const char *key, struct mx_set **out, size_t *n)
{
	lua_State *L = c->L;
	int rc = 0;
	if ((rc = table_field(c, t, key, "a list of tables { { goos = ... }, ... }")) <= 0)
		goto out;
	rc = 0;
	lua_Unsigned len = lua_rawlen(L, -1);
	if (len > MAX_LIST) {
		rc = conv_error(c, "'%s' has more than %d entries", key, MAX_LIST);
		goto out;
	}
	for (lua_Unsigned i = 1; i <= len && rc == 0; i++) {
		if (lua_rawgeti(L, -1, (lua_Integer)i) != LUA_TTABLE) {
			rc = conv_error(c, "'%s' entry %llu must be a table { goos = ..., goarch = ... }", key,
					(unsigned long long)i);
		} else {
			*out = xreallocarray(*out, *n + 1, sizeof(**out));
			memset(&(*out)[*n], 0, sizeof(**out));
			rc = conv_set(c, -1, &(*out)[(*n)++], NULL, NULL);
		}
		lua_pop(L, 1);
	}
out:
	lua_pop(L, 1);
	return rc;
}

static int conv_matrix(struct conv *c, int t, struct mx_spec *spec)
{
	lua_State *L = c->L;
	int rc = -1;
	raw_field(L, t, "targets");
	if (lua_isnil(L, -1)) {
		conv_error(c, "'targets' is required: targets = matrix { goos = { ... }, goarch = { ... } }");
		goto out;
	}
	if (lua_type(L, -1) != LUA_TTABLE || raw_field(L, -1, "__matrix") != LUA_TTABLE) {
		if (lua_type(L, -1) != LUA_TTABLE)
			lua_pushnil(L);
		lua_pop(L, 1);
		conv_error(c, "'targets' must be a matrix { goos = { ... }, goarch = { ... } }");
		goto out;
	}
	raw_field(L, -2, "__line");
	int saved = c->line;
	c->line = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	spec->line = c->line;
	rc = conv_set(c, -1, &spec->base, "include", "exclude");
	if (rc == 0)
		rc = conv_sets(c, -1, "exclude", &spec->exclude, &spec->nexclude);
	if (rc == 0)
		rc = conv_sets(c, -1, "include", &spec->include, &spec->ninclude);
	c->line = saved;
	lua_pop(L, 1);
out:
	lua_pop(L, 1);
	return rc;
}

/* A variable name for the job's environment: "NAME=value" must split at
 * its first '=' and be one line. */
static int check_env_name(struct conv *c, const char *name, size_t len)
{
	char buf[96];
	int bad = !len || strlen(name) != len || !utf8_valid(name);
	for (const unsigned char *p = (const unsigned char *)name; *p && !bad; p++)
		bad = *p == '=' || *p < 0x20 || *p == 0x7f;
	if (bad)
		return conv_error(c, "env: '%s' is not a variable name (non-empty, without '=' or control "
				  "characters)", shown(name, buf, sizeof(buf)));
	return 0;
}

/* env = { "PASSED_THROUGH", NAME = "explicit value", NAME = false }
 * (false: drop a variable xgo-build would set; jobenv says which may be) */
static int conv_build_env(struct conv *c, int t, struct build_decl *b)
{
	lua_State *L = c->L;
	int rc = 0;
	if ((rc = table_field(c, t, "env", "a table { \"PASSED\", NAME = \"value\" }")) <= 0)
		goto out;
	rc = 0;
	lua_pushnil(L);
	while (rc == 0 && lua_next(L, -2)) {
		char *val = NULL;
		int ktype = lua_type(L, -2);
		const char *name = ktype == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (ktype == LUA_TNUMBER) {
			if ((rc = to_string(c, -1, "env", &val)) == 0 && (rc = check_env_name(c, val, strlen(val))) == 0)
				strv_push(&b->env_pass, val);
		} else if (!name) {
			rc = conv_error(c, "env: keys are variable names, not a %s", lua_kind(L, -2));
		} else if ((rc = check_env_name(c, name, lua_rawlen(L, -2))) < 0) {
			/* named */
		} else if (lua_type(L, -1) == LUA_TBOOLEAN) {
			if (lua_toboolean(L, -1))
				rc = conv_error(c, "env: %s = true means nothing: give a string, or false to drop it",
						name);
			else
				strv_push(&b->env_unset, name);
		} else if ((rc = to_string(c, -1, name, &val)) == 0) {
			strv_pushf(&b->env_set, "%s=%s", name, val);
		}
		free(val);
		lua_pop(L, 1);
	}
	if (rc)
		lua_pop(L, 1);
out:
	lua_pop(L, 1);
	return rc;
}

/* smoke = { args = { "--version" }, expect = "hello {version}" } */
static int conv_smoke(struct conv *c, int t, struct build_decl *b)
{
	static const char *const keys[] = { "args", "expect" };
	int rc;
	if ((rc = table_field(c, t, "smoke", "a table { args = { ... }, expect = \"...\" }")) <= 0)
		goto out;
	b->smoke = 1;
	int s = lua_gettop(c->L);
	rc = check_keys(c, s, keys, ARRAY_LEN(keys)) < 0 || get_strlist(c, s, "args", &b->smoke_args) < 0 ||
	     get_str(c, s, "expect", &b->smoke_expect, NULL) < 0 ? -1 : 0;
out:
	lua_pop(c->L, 1);
	return rc;
}

static int conv_build(struct conv *c, int t, const char *name, struct release *r)
{
	static const char *const keys[] = { "name", "main", "binary", "output", "ldflags", "flags",
					    "tags", "env", "targets", "static", "smoke", "universal", "vcs" };
	for (size_t i = 0; i < r->nbuilds; i++)
		if (!strcmp(r->builds[i].name, name))
			return conv_error(c, "a build of that name is declared already at line %d",
					  r->builds[i].line);
	r->builds = xreallocarray(r->builds, r->nbuilds + 1, sizeof(*r->builds));
	struct build_decl *b = &r->builds[r->nbuilds++];
	memset(b, 0, sizeof(*b));
	b->line = c->line;
	b->name = xstrdup(name);
	if (!valid_name(name))
		return conv_error(c, "build name may use only letters, digits, '-', '_' and '.'");
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 ||
	    get_str(c, t, "main", &b->main, ".") < 0 ||
	    get_str(c, t, "binary", &b->binary, name) < 0 ||
	    get_str(c, t, "output", &b->output, "{build}_{os}_{arch}{variant}/{binary}{ext}") < 0 ||
	    get_strlist(c, t, "ldflags", &b->ldflags) < 0 ||
	    get_strlist(c, t, "flags", &b->flags) < 0 ||
	    get_strlist(c, t, "tags", &b->tags) < 0 ||
	    conv_build_env(c, t, b) < 0 ||
	    get_bool(c, t, "static", &b->static_link, 1) < 0 ||
	    conv_smoke(c, t, b) < 0 ||
	    get_bool(c, t, "universal", &b->universal, 0) < 0 || get_bool(c, t, "vcs", &b->vcs, 0) < 0 ||
	    conv_matrix(c, t, &b->targets) < 0)
		return -1;
	if (!*b->binary || strchr(b->binary, '/'))
		return conv_error(c, "binary '%s' must be a file name without '/'", b->binary);
	char *what = xasprintf("%s:%d: %s: binary", c->file, c->line, c->what);
	int rc = path_check_name(what, b->binary);
	free(what);
	return rc;
}

/* A files entry's dst: a name inside the archive ("dir/" names a
 * directory for the matches). */
static int check_dst(struct conv *c, const char *dst)
{
	size_t n = strlen(dst);
	while (n > 1 && dst[n - 1] == '/')
		n--;
	char *name = xstrndup(dst, n);
	char *what = xasprintf("%s:%d: %s: dst", c->file, c->line, c->what);
	int rc = path_check_name(what, name);
	free(what);
	free(name);
	return rc;
}

/* A files entry's mode: octal permission bits, at most 0777. */
static int conv_mode(struct conv *c, const char *mode, int *out)
{
	char *end;
	long m = strtol(mode, &end, 8);
	if (*mode == '\0' || *end || m < 0 || m > 07777)
		return conv_error(c, "mode '%s' must be octal such as \"0644\"", mode);
	if (m > 0777)
		return conv_error(c, "mode '%s' sets setuid, setgid or sticky bits: give permission "
				  "bits only, such as \"0755\" or \"0644\"", mode);
	*out = (int)m;
	return 0;
}

static int conv_files(struct conv *c, int t, struct archive_file **files, size_t *nfiles)
{
	static const char *const keys[] = { "src", "dst", "mode", "optional" };
	lua_State *L = c->L;
	int rc = 0;
	if ((rc = table_field(c, t, "files", "a list of paths or { src = ..., dst = ..., mode = \"0644\", "
			      "optional = true }")) <= 0)
		goto out;
	rc = 0;
	lua_Unsigned n = lua_rawlen(L, -1);
	if (n > MAX_LIST) {
		rc = conv_error(c, "'files' has more than %d entries", MAX_LIST);
		goto out;
	}
	for (lua_Unsigned i = 1; i <= n && rc == 0; i++) {
		*files = xreallocarray(*files, *nfiles + 1, sizeof(**files));
		struct archive_file *f = &(*files)[(*nfiles)++];
		memset(f, 0, sizeof(*f));
		int type = lua_rawgeti(L, -1, (lua_Integer)i);
		if (type == LUA_TSTRING) {
			rc = to_string(c, -1, "files", &f->src);
		} else if (type == LUA_TTABLE) {
			char *mode = NULL;
			rc = check_keys(c, -1, keys, ARRAY_LEN(keys));
			if (!rc)
				rc = get_str(c, lua_gettop(L), "src", &f->src, NULL);
			if (!rc)
				rc = get_str(c, lua_gettop(L), "dst", &f->dst, NULL);
			if (!rc)
				rc = get_str(c, lua_gettop(L), "mode", &mode, NULL);
			if (!rc)
				rc = get_bool(c, lua_gettop(L), "optional", &f->optional, 0);
			if (!rc && !f->src)
				rc = conv_error(c, "files entry %llu needs 'src'", (unsigned long long)i);
			if (!rc && f->dst)
				rc = check_dst(c, f->dst);
			if (!rc && mode)
				rc = conv_mode(c, mode, &f->mode);
			free(mode);
		} else {
			rc = conv_error(c, "'files' entry %llu must be a path or a table, not a %s",
					(unsigned long long)i, lua_typename(L, type));
		}
		lua_pop(L, 1);
	}
out:
	lua_pop(L, 1);
	return rc;
}

static int conv_overrides(struct conv *c, int t, struct strv *out)
{
	lua_State *L = c->L;
	int rc = 0;
	if ((rc = table_field(c, t, "format_overrides", "a table { windows = \"zip\" }")) <= 0)
		goto out;
	rc = 0;
	lua_pushnil(L);
	while (rc == 0 && lua_next(L, -2)) {
		char *fmt = NULL;
		if (lua_type(L, -2) != LUA_TSTRING)
			rc = conv_error(c, "'format_overrides' keys are GOOS names: { windows = \"zip\" }");
		else if ((rc = to_string(c, -1, "format_overrides", &fmt)) == 0)
			strv_pushf(out, "%s=%s", lua_tostring(L, -2), fmt);
		free(fmt);
		lua_pop(L, 1);
	}
	if (rc)
		lua_pop(L, 1);
out:
	lua_pop(L, 1);
	return rc;
}

static int valid_format(const char *f)
{
	static const char *const formats[] = { "tar.gz", "tar.xz", "tar.zst", "zip", "binary" };
	for (size_t i = 0; i < ARRAY_LEN(formats); i++)
		if (!strcmp(f, formats[i]))
			return 1;
	return 0;
}

static int check_format(struct conv *c, const char *f)
{
	static const char *const formats[] = { "tar.gz", "tar.xz", "tar.zst", "zip", "binary" };
	if (valid_format(f))
		return 0;
	const char *s = suggest(f, formats, ARRAY_LEN(formats));
	return conv_error(c, "unknown format '%s'%s%s%s (formats: tar.gz, tar.xz, tar.zst, zip, binary)", f,
			  s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
}

static int conv_archive(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "format", "format_overrides", "name", "files",
					    "wrap_in_directory", "builds" };
	r->archives = xreallocarray(r->archives, r->narchives + 1, sizeof(*r->archives));
	struct archive_decl *a = &r->archives[r->narchives++];
	memset(a, 0, sizeof(*a));
	a->line = c->line;
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 ||
	    get_str(c, t, "format", &a->format, "tar.gz") < 0 ||
	    conv_overrides(c, t, &a->overrides) < 0 ||
	    get_str(c, t, "name", &a->name, "{name}_{version}_{os}_{arch}{variant}") < 0 ||
	    conv_files(c, t, &a->files, &a->nfiles) < 0 ||
	    get_bool(c, t, "wrap_in_directory", &a->wrap_in_directory, 0) < 0 ||
	    get_strlist(c, t, "builds", &a->builds) < 0 ||
	    check_format(c, a->format) < 0)
		return -1;
	for (size_t i = 0; i < a->overrides.n; i++)
		if (check_format(c, strchr(a->overrides.v[i], '=') + 1) < 0)
			return -1;
	return 0;
}

/* An OCI repository name component, as docker and skopeo accept it:
 * lowercase letters and digits, separated by one '.', '_' or '-'. */
static int valid_image_name(const char *s)
{
	int prev_sep = 1;
	for (; *s; s++) {
		int sep = *s == '.' || *s == '_' || *s == '-';
		if (!sep && !(('a' <= *s && *s <= 'z') || ('0' <= *s && *s <= '9')))
			return 0;
		if (sep && prev_sep)
			return 0;
		prev_sep = sep;
	}
	return !prev_sep;
}

/* labels = { ["org.opencontainers.image.source"] = "https://..." },
 * kept as "key=value" sorted by key (the config must not depend on
 * Lua's hash order). */
static int conv_labels(struct conv *c, int t, struct strv *out)
{
	lua_State *L = c->L;
	int rc;
	if ((rc = table_field(c, t, "labels", "a table { [\"org.opencontainers.image.source\"] = \"...\" }")) <= 0)
		goto out;
	rc = 0;
	lua_pushnil(L);
	while (rc == 0 && lua_next(L, -2)) {
		char *val = NULL;
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (!key || !*key || strchr(key, '=') || !utf8_valid(key))
			rc = conv_error(c, "labels: keys must be non-empty text without '=': { [\"a.b\"] = \"v\" }");
		else if ((rc = to_string(c, -1, "labels", &val)) == 0)
			strv_pushf(out, "%s=%s", key, val);
		free(val);
		lua_pop(L, 1);
	}
	if (rc)
		lua_pop(L, 1);
	for (size_t i = 1; i < out->n; i++)
		for (size_t j = i; j > 0 && strcmp(out->v[j - 1], out->v[j]) > 0; j--) {
			char *tmp = out->v[j];
			out->v[j] = out->v[j - 1];
			out->v[j - 1] = tmp;
		}
out:
	lua_pop(L, 1);
	return rc;
}

static int conv_image(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "name", "base", "files", "entrypoint", "labels", "platforms",
					    "builds" };
	r->images = xreallocarray(r->images, r->nimages + 1, sizeof(*r->images));
	struct image_decl *m = &r->images[r->nimages++];
	memset(m, 0, sizeof(*m));
	m->line = c->line;
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 || get_str(c, t, "name", &m->name, NULL) < 0 ||
	    get_str(c, t, "base", &m->base, "scratch") < 0 || conv_files(c, t, &m->files, &m->nfiles) < 0 ||
	    get_strlist(c, t, "entrypoint", &m->entrypoint) < 0 || conv_labels(c, t, &m->labels) < 0 ||
	    get_strlist(c, t, "platforms", &m->platforms) < 0 || get_strlist(c, t, "builds", &m->builds) < 0)
		return -1;
	if (!m->name)
		return conv_error(c, "needs 'name': image { name = \"%s\", ... }", r->project ? r->project : "app");
	if (strlen(m->name) > 128 || !valid_image_name(m->name))
		return conv_error(c, "name '%s' is no image name: lowercase letters and digits, separated by one "
				  "'.', '_' or '-' (at most 128 bytes)", m->name);
	for (size_t i = 0; i < r->nimages - 1; i++)
		if (!strcmp(r->images[i].name, m->name))
			return conv_error(c, "name '%s' is used by the image at line %d already", m->name,
					  r->images[i].line);
	const char *at = strstr(m->base, "@sha256:");
	if (strcmp(m->base, "scratch") && (!at || at == m->base || !hash_is_sha256_hex(at + 8)))
		return conv_error(c, "base '%s': want \"scratch\" or a local OCI layout pinned by digest, "
				  "\"DIR@sha256:<64 hex digits>\"", m->base);
	return 0;
}

/* ---- package { ... }: Linux packages (orchestrator/linuxpkg.h) ---- */

/* Package names: Debian's rule for deb (lowercase, at least two
 * characters), rpm's own characters for rpm. */
static int valid_package_name(const char *format, const char *s)
{
	int deb = !strcmp(format, "deb");
	size_t n = strlen(s);
	if (n < (deb ? 2u : 1u) || n > 128 || (deb && !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0]))))
		return 0;
	for (const char *p = s; *p; p++) {
		int ok = deb ? islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("+-.", *p)
			     : isalnum((unsigned char)*p) || strchr("+-._", *p);
		if (!ok)
			return 0;
	}
	return 1;
}

/* A version or release both formats accept: starts with a digit (or is a
 * release), letters, digits and ".+~_" only -- no '-' (it separates the
 * release) and no ':' (an epoch). */
static int valid_package_version(const char *s, int need_digit)
{
	if (!*s || strlen(s) > 128 || (need_digit && !isdigit((unsigned char)*s)))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".+~_", *s))
			return 0;
	return 1;
}

/* One line of text for a control field: no control characters, no ','
 * when it is a list item. */
static int check_field(struct conv *c, const char *key, const char *v, int list_item, int multiline)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if ((*p < ' ' && !(multiline && *p == '\n')) || *p == 0x7f || (list_item && *p == ','))
			return conv_error(c, "'%s' = \"%s\" may not hold %s", key, v,
					  *p == ',' ? "',' (give one dependency per list item)" :
					  "control characters or line breaks");
	return 0;
}

static int check_package_dst(struct conv *c, const char *dst)
{
	if (dst[0] != '/' || !dst[1] || dst[strlen(dst) - 1] == '/')
		return conv_error(c, "contents: dst '%s' must be an absolute file path such as \"/usr/bin/hello\"", dst);
	char *what = xasprintf("%s:%d: %s: contents: dst", c->file, c->line, c->what);
	int rc = path_check_name(what, dst + 1);
	free(what);
	return rc;
}

static int conv_package_content(struct conv *c, int idx, lua_Unsigned i, struct package_content *e)
{
	static const char *const keys[] = { "type", "src", "dst", "mode" };
	static const char *const types[] = { "file", "config", "symlink", "binary" };
	char *mode = NULL;
	int rc;
	if (lua_type(c->L, idx) != LUA_TTABLE)
		return conv_error(c, "contents entry %llu must be a table { src = ..., dst = ... }", (unsigned long long)i);
	if (check_keys(c, idx, keys, ARRAY_LEN(keys)) < 0 || get_str(c, idx, "type", &e->type, "file") < 0 ||
	    get_str(c, idx, "src", &e->src, NULL) < 0 || get_str(c, idx, "dst", &e->dst, NULL) < 0 ||
	    get_str(c, idx, "mode", &mode, NULL) < 0)
		return free(mode), -1;
	rc = mode ? conv_mode(c, mode, &e->mode) : 0;
	free(mode);
	size_t t;
	for (t = 0; t < ARRAY_LEN(types) && strcmp(e->type, types[t]); t++)
		;
	if (rc < 0)
		return -1;
	if (t == ARRAY_LEN(types))
		return conv_error(c, "contents entry %llu: unknown type '%s' (file, config, symlink or binary)",
				  (unsigned long long)i, e->type);
	if (!e->dst)
		return conv_error(c, "contents entry %llu needs 'dst' (where it is installed)", (unsigned long long)i);
	if (!e->src && t != 3)
		return conv_error(c, "contents entry %llu needs 'src' (%s)", (unsigned long long)i,
				  t == 2 ? "the link's target" : "a file of the project");
	if (t == 2 && mode)
		return conv_error(c, "contents entry %llu: a symlink has no mode", (unsigned long long)i);
	if (t < 2) {
		char *what = xasprintf("%s:%d: %s: contents: src", c->file, c->line, c->what);
		rc = path_check_name(what, e->src);
		free(what);
		if (rc < 0)
			return -1;
	}
	return check_package_dst(c, e->dst);
}

static int conv_package_contents(struct conv *c, int t, struct package_decl *d)
{
	int rc;
	if ((rc = table_field(c, t, "contents", "a list of { src = ..., dst = ... }")) <= 0)
		goto out;
	lua_Unsigned n = lua_rawlen(c->L, -1);
	rc = n > MAX_LIST ? conv_error(c, "'contents' has more than %d entries", MAX_LIST) : 0;
	for (lua_Unsigned i = 1; i <= n && rc == 0; i++) {
		d->contents = xreallocarray(d->contents, d->ncontents + 1, sizeof(*d->contents));
		struct package_content *e = &d->contents[d->ncontents++];
		memset(e, 0, sizeof(*e));
		lua_rawgeti(c->L, -1, (lua_Integer)i);
		rc = conv_package_content(c, lua_gettop(c->L), i, e);
		lua_pop(c->L, 1);
	}
out:
	lua_pop(c->L, 1);
	return rc;
}

static int conv_package_scripts(struct conv *c, int t, struct package_decl *d)
{
	static const char *const keys[] = { "preinstall", "postinstall", "preremove", "postremove" };
	int rc;
	if ((rc = table_field(c, t, "scripts", "a table { postinstall = \"scripts/postinst.sh\" }")) <= 0)
		goto out;
	rc = check_keys(c, -1, keys, ARRAY_LEN(keys));
	for (size_t i = 0; i < PKG_SCRIPTS && rc == 0; i++) {
		rc = get_str(c, lua_gettop(c->L), keys[i], &d->scripts[i], NULL);
		if (rc == 0 && d->scripts[i]) {
			char *what = xasprintf("%s:%d: %s: scripts: %s", c->file, c->line, c->what, keys[i]);
			rc = path_check_name(what, d->scripts[i]);
			free(what);
		}
	}
out:
	lua_pop(c->L, 1);
	return rc;
}

static int check_package_fields(struct conv *c, struct package_decl *d)
{
	if (strcmp(d->format, "deb") && strcmp(d->format, "rpm"))
		return conv_error(c, "unknown format '%s' (deb or rpm)", d->format);
	if (!valid_package_name(d->format, d->name))
		return conv_error(c, "name '%s' is not a %s package name (%s)", d->name, d->format,
				  !strcmp(d->format, "deb") ? "lowercase letters, digits and '+-.', at least two, "
							      "starting with a letter or digit"
							    : "letters, digits and '+-._'");
	if (d->version && !valid_package_version(d->version, 1))
		return conv_error(c, "version '%s' must start with a digit and hold only letters, digits and "
				  "'.+~_' (set version = \"1.2.3\")", d->version);
	if (!valid_package_version(d->release, 0))
		return conv_error(c, "release '%s' may hold only letters, digits and '.+~_'", d->release);
	if (!d->maintainer || !strchr(d->maintainer, '<') || d->maintainer[strlen(d->maintainer) - 1] != '>')
		return conv_error(c, "maintainer is required as \"Name <address>\"%s%s%s", d->maintainer ? ", not '" : "",
				  d->maintainer ? d->maintainer : "", d->maintainer ? "'" : "");
	if (!d->description || !*d->description)
		return conv_error(c, "description is required (a one-line summary, then more lines if needed)");
	if (check_field(c, "maintainer", d->maintainer, 0, 0) < 0 ||
	    check_field(c, "description", d->description, 0, 1) < 0 ||
	    (d->license && check_field(c, "license", d->license, 0, 0) < 0) ||
	    (d->homepage && check_field(c, "homepage", d->homepage, 0, 0) < 0))
		return -1;
	for (size_t i = 0; i < d->depends.n; i++)
		if (check_field(c, "depends", d->depends.v[i], 1, 0) < 0)
			return -1;
	return 0;
}

static int conv_package(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "format", "name", "version", "release", "maintainer", "description",
					    "license", "homepage", "depends", "contents", "scripts", "builds",
					    "targets" };
	r->packages = xreallocarray(r->packages, r->npackages + 1, sizeof(*r->packages));
	struct package_decl *d = &r->packages[r->npackages++];
	memset(d, 0, sizeof(*d));
	d->line = c->line;
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 || get_str(c, t, "format", &d->format, NULL) < 0 ||
	    get_str(c, t, "name", &d->name, NULL) < 0 ||
	    get_str(c, t, "version", &d->version, NULL) < 0 || get_str(c, t, "release", &d->release, "1") < 0 ||
	    get_str(c, t, "maintainer", &d->maintainer, NULL) < 0 ||
	    get_str(c, t, "description", &d->description, NULL) < 0 ||
	    get_str(c, t, "license", &d->license, NULL) < 0 || get_str(c, t, "homepage", &d->homepage, NULL) < 0 ||
	    get_strlist(c, t, "depends", &d->depends) < 0 || get_strlist(c, t, "builds", &d->builds) < 0 ||
	    get_strlist(c, t, "targets", &d->targets) < 0 || conv_package_contents(c, t, d) < 0 ||
	    conv_package_scripts(c, t, d) < 0)
		return -1;
	if (!d->format)
		return conv_error(c, "format is required: \"deb\" or \"rpm\"");
	return 0;
}

/* A package's default version from the project's, and its check. */
static int package_version(struct conv *c, const struct release *r, struct package_decl *d)
{
	const char *v = r->version;
	if (v[0] == 'v' && isdigit((unsigned char)v[1]))
		v++; /* a git tag "v1.2.3" is version 1.2.3 */
	if (!d->version) {
		d->version = xstrdup(v);
		for (char *p = d->version; *p; p++)
			if (*p == '-')
				*p = '~'; /* 1.2.0-SNAPSHOT-abc: '-' is no package version letter; '~' sorts before 1.2.0 */
	}
	return check_package_fields(c, d);
}

/* After every declaration: the defaults from project { } (declared before
 * or after), then the fields' checks. */
static int finish_packages(const char *file, struct release *r)
{
	for (size_t i = 0; i < r->npackages; i++) {
		struct package_decl *d = &r->packages[i];
		struct conv c = { .file = file, .line = d->line, .what = "package" };
		if (!d->name)
			d->name = xstrdup(r->project);
		if (r->version ? package_version(&c, r, d) < 0 : check_package_fields(&c, d) < 0)
			return -1; /* without a version, release_set_version sets the default */
		for (size_t j = 0; j < d->builds.n; j++)
			if (!release_build(r, d->builds.v[j]))
				return conv_error(&c, "builds: no build named '%s'", d->builds.v[j]);
	}
	return 0;
}

static void package_decl_clear(struct package_decl *d)
{
	free(d->format);
	free(d->name);
	free(d->version);
	free(d->release);
	free(d->maintainer);
	free(d->description);
	free(d->license);
	free(d->homepage);
	strv_release(&d->depends);
	strv_release(&d->builds);
	strv_release(&d->targets);
	for (size_t i = 0; i < d->ncontents; i++) {
		free(d->contents[i].type);
		free(d->contents[i].src);
		free(d->contents[i].dst);
	}
	free(d->contents);
	for (size_t i = 0; i < PKG_SCRIPTS; i++)
		free(d->scripts[i]);
}

/* ---- end of package ---- */

static int conv_checksums(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "file", "algorithm", "per_file" };
	struct checksums_decl *k = &r->checksums;
	if (k->line)
		return conv_error(c, "declared twice (first at line %d)", k->line);
	k->line = c->line;
	free(k->file);
	free(k->algorithm);
	k->file = k->algorithm = NULL;
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 ||
	    get_str(c, t, "algorithm", &k->algorithm, "sha256") < 0 ||
	    get_str(c, t, "file", &k->file, !strcmp(k->algorithm ? k->algorithm : "", "sha512") ? "SHA512SUMS" : "SHA256SUMS") < 0 ||
	    get_bool(c, t, "per_file", &k->per_file, 0) < 0)
		return -1;
	if (strcmp(k->algorithm, "sha256") && strcmp(k->algorithm, "sha512"))
		return conv_error(c, "unknown algorithm '%s' (sha256 or sha512)", k->algorithm);
	if (!*k->file || strchr(k->file, '/'))
		return conv_error(c, "file '%s' must be a plain file name", k->file);
	char *what = xasprintf("%s:%d: checksums: file", c->file, c->line);
	int rc = path_check_name(what, k->file);
	free(what);
	return rc;
}

static int conv_sbom(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "formats" };
	static const char *const formats[] = { "spdx", "cyclonedx" };
	struct sbom_decl *k = &r->sbom;
	struct strv f = { 0 };
	int rc = 0;
	if (k->line)
		return conv_error(c, "declared twice (first at line %d)", k->line);
	k->line = c->line;
	k->spdx = k->cyclonedx = 0;
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 || get_strlist(c, t, "formats", &f) < 0)
		return -1;
	for (size_t i = 0; i < f.n && rc == 0; i++) {
		if (!strcmp(f.v[i], "spdx"))
			k->spdx = 1;
		else if (!strcmp(f.v[i], "cyclonedx"))
			k->cyclonedx = 1;
		else {
			const char *s = suggest(f.v[i], formats, ARRAY_LEN(formats));
			rc = conv_error(c, "unknown format '%s' (spdx or cyclonedx%s%s%s)", f.v[i], s ? "; did you mean '" : "",
					s ? s : "", s ? "'?" : "");
		}
	}
	strv_release(&f);
	return rc;
}

static int conv_cache(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "url", "read_only", "token_env", "signing_key_env", "trusted_keys",
					    "gocacheprog" };
	struct cache_decl *k = &r->cache;
	int prog;
	if (k->line)
		return conv_error(c, "declared twice (first at line %d)", k->line);
	k->line = c->line;
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 || get_str(c, t, "url", &k->url, NULL) < 0 ||
	    get_bool(c, t, "read_only", &k->read_only, 0) < 0 || get_str(c, t, "token_env", &k->token_env, NULL) < 0 ||
	    get_str(c, t, "signing_key_env", &k->signing_key_env, NULL) < 0 ||
	    get_strlist(c, t, "trusted_keys", &k->trusted_keys) < 0 || get_bool(c, t, "gocacheprog", &prog, 1) < 0)
		return -1;
	k->no_gocacheprog = !prog;
	if (!k->url && !prog)
		return 0; /* cache { gocacheprog = false } alone */
	if (!k->url || (strncmp(k->url, "http://", 7) && strncmp(k->url, "https://", 8)))
		return conv_error(c, "url must be an http:// or https:// address, not '%s'", k->url ? k->url : "");
	return 0;
}

static int valid_env_name(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

static int conv_signing(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "key", "password_env", "archives" };
	struct signing_decl *k = &r->signing;
	if (k->line)
		return conv_error(c, "declared twice (first at line %d)", k->line);
	k->line = c->line;
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 || get_str(c, t, "key", &k->key, NULL) < 0 ||
	    get_str(c, t, "password_env", &k->password_env, NULL) < 0 ||
	    get_bool(c, t, "archives", &k->archives, 0) < 0)
		return -1;
	if (k->key && !*k->key)
		return conv_error(c, "key is empty: give the secret key file, e.g. key = env(\"XGO_SIGNING_KEY_FILE\")");
	if (k->password_env && !valid_env_name(k->password_env))
		return conv_error(c, "password_env = '%s' is not a variable name (the name, not the password)",
				  k->password_env);
	return 0;
}

static int valid_toolchain(const char *s)
{
	return !strcmp(s, "zig") || !strcmp(s, "gcc") || !strcmp(s, "host") || s[0] == '/';
}

/* targets = { ["linux/riscv64"] = "gcc", windows = "zig" } */
static int conv_cc_targets(struct conv *c, int t, struct strv *out)
{
	lua_State *L = c->L;
	int rc;
	if ((rc = table_field(c, t, "targets", "a table { [\"linux/arm64\"] = \"gcc\" }")) <= 0)
		goto out;
	rc = 0;
	lua_pushnil(L);
	while (rc == 0 && lua_next(L, -2)) {
		char *val = NULL;
		if (lua_type(L, -2) != LUA_TSTRING)
			rc = conv_error(c, "targets: keys are targets such as [\"linux/arm64\"] or windows");
		else if ((rc = to_string(c, -1, lua_tostring(L, -2), &val)) == 0 && !valid_toolchain(val))
			rc = conv_error(c, "targets: '%s' is no toolchain (zig, gcc, host or an absolute path)", val);
		else if (rc == 0)
			strv_pushf(out, "%s=%s", lua_tostring(L, -2), val);
		free(val);
		lua_pop(L, 1);
	}
	if (rc)
		lua_pop(L, 1);
out:
	lua_pop(L, 1);
	return rc;
}

static int conv_cc(struct conv *c, int t, struct release *r)
{
	static const char *const keys[] = { "zig", "use", "libc", "targets" };
	struct cc_decl *d = &r->cc;
	if (d->line)
		return conv_error(c, "declared already at line %d", d->line);
	d->line = c->line;
	if (check_keys(c, t, keys, ARRAY_LEN(keys)) < 0 || get_str(c, t, "zig", &d->zig, NULL) < 0 ||
	    get_str(c, t, "use", &d->use, NULL) < 0 || get_str(c, t, "libc", &d->libc, "musl") < 0 ||
	    conv_cc_targets(c, t, &d->targets) < 0)
		return -1;
	if (d->zig && !lock_is_version(d->zig))
		return conv_error(c, "zig = '%s' is not a version such as \"0.17.0\"", d->zig);
	if (d->use && !valid_toolchain(d->use))
		return conv_error(c, "use = '%s': want \"zig\", \"gcc\", \"host\" or an absolute path", d->use);
	if (strcmp(d->libc, "musl") && strcmp(d->libc, "glibc"))
		return conv_error(c, "libc = '%s': want \"musl\" or \"glibc\"", d->libc);
	return 0;
}

static int conv_hooks(struct conv *c, int t, struct strv *out)
{
	lua_Unsigned n = lua_rawlen(c->L, t);
	if (n == 0)
		return conv_error(c, "expects a list of commands: { \"go generate ./...\" }");
	return to_strlist(c, t, "commands", out);
}

static int conv_decl(lua_State *L, const char *file, struct release *r)
{
	struct conv c = { .L = L, .file = file };
	raw_field(L, -1, "line");
	c.line = (int)lua_tointeger(L, -1);
	raw_field(L, -2, "kind");
	const char *kind = lua_tostring(L, -1);
	raw_field(L, -3, "args");
	int t = lua_gettop(L);
	int rc;
	snprintf(c.what, sizeof(c.what), "%s", kind);
	if (!strcmp(kind, "project")) {
		rc = conv_project(&c, t, r);
	} else if (!strcmp(kind, "go")) {
		rc = conv_go(&c, t, r);
	} else if (!strcmp(kind, "build")) {
		raw_field(L, -4, "name");
		const char *name = lua_tostring(L, -1);
		if (!name) {
			rc = conv_error(&c, "needs a name: build \"hello\" { ... }");
		} else {
			snprintf(c.what, sizeof(c.what), "build '%.100s'", name);
			rc = conv_build(&c, t, name, r);
		}
		lua_pop(L, 1);
	} else if (!strcmp(kind, "archive")) {
		rc = conv_archive(&c, t, r);
	} else if (!strcmp(kind, "image")) {
		rc = conv_image(&c, t, r);
	} else if (!strcmp(kind, "package")) {
		rc = conv_package(&c, t, r);
	} else if (!strcmp(kind, "checksums")) {
		rc = conv_checksums(&c, t, r);
	} else if (!strcmp(kind, "sbom")) {
		rc = conv_sbom(&c, t, r);
	} else if (!strcmp(kind, "cache")) {
		rc = conv_cache(&c, t, r);
	} else if (!strcmp(kind, "signing")) {
		rc = conv_signing(&c, t, r);
	} else if (!strcmp(kind, "cc")) {
		rc = conv_cc(&c, t, r);
	} else if (!strcmp(kind, "before")) {
		rc = conv_hooks(&c, t, &r->before);
	} else {
		rc = conv_hooks(&c, t, &r->after);
	}
	lua_pop(L, 3);
	return rc;
}

static int conv_env_reads(lua_State *L, struct release *r)
{
	lua_getfield(L, LUA_REGISTRYINDEX, "xgo.env");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		r->env_reads = xreallocarray(r->env_reads, r->nenv_reads + 1, sizeof(*r->env_reads));
		struct env_read *e = &r->env_reads[r->nenv_reads++];
		e->name = xstrdup(lua_tostring(L, -2));
		raw_field(L, -1, "value");
		e->value = lua_isstring(L, -1) ? xstrdup(lua_tostring(L, -1)) : NULL;
		raw_field(L, -2, "from_default");
		e->from_default = lua_toboolean(L, -1);
		lua_pop(L, 3);
	}
	lua_pop(L, 1);
	/* Sorted by name: the manifest must not depend on hash order. */
	for (size_t i = 1; i < r->nenv_reads; i++)
		for (size_t j = i; j > 0 && strcmp(r->env_reads[j - 1].name, r->env_reads[j].name) > 0; j--) {
			struct env_read tmp = r->env_reads[j];
			r->env_reads[j] = r->env_reads[j - 1];
			r->env_reads[j - 1] = tmp;
		}
	return 0;
}

static int convert(lua_State *L, const char *file, struct release *r)
{
	int decls = lua_gettop(L);
	lua_Unsigned n = lua_rawlen(L, decls);
	for (lua_Unsigned i = 1; i <= n; i++) {
		lua_rawgeti(L, decls, (lua_Integer)i);
		int rc = conv_decl(L, file, r);
		lua_pop(L, 1);
		if (rc < 0)
			return -1;
	}
	if (!r->project)
		return error("%s: no project declaration: add project { name = \"...\", version = \"...\" }", file);
	if (!r->go_version)
		return error("%s: no Go SDK pin: add go \"1.26.8\" (the version to build with)", file);
	if (!r->nbuilds)
		return error("%s: no build declaration: add build \"%s\" { targets = matrix { ... } }", file, r->project);
	if (!r->sbom.line)
		r->sbom.spdx = 1;
	if (!r->checksums.line) {
		r->checksums.file = xstrdup("SHA256SUMS");
		r->checksums.algorithm = xstrdup("sha256");
	}
	for (size_t i = 0; i < r->narchives; i++)
		for (size_t j = 0; j < r->archives[i].builds.n; j++)
			if (!release_build(r, r->archives[i].builds.v[j]))
				return error("%s:%d: archive: no build named '%s'", file, r->archives[i].line,
					     r->archives[i].builds.v[j]);
	for (size_t i = 0; i < r->nimages; i++)
		for (size_t j = 0; j < r->images[i].builds.n; j++)
			if (!release_build(r, r->images[i].builds.v[j]))
				return error("%s:%d: image: builds: no build named '%s'", file, r->images[i].line,
					     r->images[i].builds.v[j]);
	if (finish_packages(file, r) < 0)
		return -1;
	return conv_env_reads(L, r);
}

/* convert() in a protected call: converting allocates Lua strings too. */
struct conv_call {
	const char *file;
	struct release *r;
	int rc;
};

static int l_convert(lua_State *L)
{
	struct conv_call *cc = lua_touserdata(L, 1);
	/* the decls table is on top, where convert() expects it */
	cc->rc = convert(L, cc->file, cc->r);
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* ---- the lines of a matrix's exclude and include entries ----
 *
 * A table constructor leaves no line behind in Lua, so the entries of a
 * matrix { exclude = { {...}, {...} } } would all carry the matrix's line.
 * A small scan of the text (strings and comments skipped) from that line
 * finds each entry's own line; when the text does not hold a literal list
 * of exactly as many entries (a list built in Lua), the lines stay. */

/* Skip a string, comment or long bracket at p; the end, or p when none. */
static const char *skip_lua_text(const char *p, const char *end, int *line)
{
	int level = -1;
	if (p + 1 < end && p[0] == '-' && p[1] == '-') {
		p += 2;
		if (p < end && *p == '[') {
			const char *q = p + 1;
			while (q < end && *q == '=')
				q++;
			if (q < end && *q == '[')
				level = (int)(q - p - 1), p = q + 1;
		}
		if (level < 0) {
			while (p < end && *p != '\n')
				p++;
			return p;
		}
	} else if (*p == '"' || *p == '\'') {
		char quote = *p++;
		while (p < end && *p != quote && *p != '\n')
			p += *p == '\\' && p + 1 < end ? 2 : 1;
		return p < end ? p + 1 : p;
	} else if (*p == '[') {
		const char *q = p + 1;
		while (q < end && *q == '=')
			q++;
		if (q >= end || *q != '[')
			return p;
		level = (int)(q - p - 1), p = q + 1;
	} else {
		return p;
	}
	for (; p < end; p++) { /* a long bracket of this level */
		if (*p == '\n')
			(*line)++;
		if (*p != ']')
			continue;
		const char *q = p + 1;
		while (q < end && *q == '=')
			q++;
		if (q < end && *q == ']' && q - p - 1 == level)
			return q + 1;
	}
	return p;
}

static void entry_lines(const char *text, size_t len, int start, const char *key, struct mx_set *sets, size_t n)
{
	const char *p = text, *end = text + len;
	int line = 1, depth = 0, list = 0, found = 0, lines[MAX_LIST];
	size_t klen = strlen(key);
	while (p < end && line < start)
		line += *p++ == '\n';
	const char *eol = memchr(p, '\n', (size_t)(end - p)), *m = p;
	while ((m = strstr(m, "matrix")) && (!eol || m < eol) && m > p && (isalnum((unsigned char)m[-1]) || m[-1] == '_'))
		m += 6;
	if (m && (!eol || m < eol))
		p = m + 6; /* after the matrix call on its line: a build's { before it does not count */
	while (p < end && n && n <= MAX_LIST) {
		const char *q = skip_lua_text(p, end, &line);
		if (q != p) {
			p = q;
			continue;
		}
		char ch = *p;
		if (ch == '\n')
			line++;
		if (ch == '{') {
			depth++;
			if (list && depth == 3 && found++ < (int)n)
				lines[found - 1] = line;
		} else if (ch == '}') {
			if (list && depth == 2)
				break; /* the list ends */
			if (--depth <= 0 && !list)
				return; /* the matrix ends without it */
		} else if (depth == 1 && !list && !strncmp(p, key, klen) && (p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
			   !(isalnum((unsigned char)p[klen]) || p[klen] == '_')) {
			const char *r = p + klen;
			while (r < end && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r'))
				line += *r++ == '\n';
			if (r < end && *r == '=') {
				r++;
				while (r < end && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r'))
					line += *r++ == '\n';
				if (r < end && *r == '{') {
					list = 1;
					depth = 2;
					p = r + 1;
					continue;
				}
			}
		}
		p++;
	}
	if (list && found == (int)n)
		for (size_t i = 0; i < n; i++)
			sets[i].line = lines[i];
}

/* Each matrix's exclude and include entries get their own lines. */
static void matrix_entry_lines(const char *path, struct release *r)
{
	size_t len;
	int saved = error_quiet(1); /* it was read a moment ago; without it the lines stay */
	char *text = read_file(path, MAX_FILE_BYTES, &len);
	error_quiet(saved);
	for (size_t i = 0; text && i < r->nbuilds; i++) {
		struct mx_spec *m = &r->builds[i].targets;
		entry_lines(text, len, m->line, "exclude", m->exclude, m->nexclude);
		entry_lines(text, len, m->line, "include", m->include, m->ninclude);
	}
	free(text);
}

int release_load(const char *path, const struct release_limits *lim_in, struct release *r)
{
	struct limits lim = { .cap = DEFAULT_MAX_BYTES, .max_instr = DEFAULT_MAX_INSTR,
			      .max_seconds = DEFAULT_MAX_SECONDS };
	int rc = -1;
	memset(r, 0, sizeof(*r));
	if (lim_in && lim_in->max_bytes)
		lim.cap = lim_in->max_bytes;
	if (lim_in && lim_in->max_instr)
		lim.max_instr = lim_in->max_instr;
	const char *secs = getenv("XGO_LUA_MAX_SECONDS"); /* README: for tests and slow machines */
	if (lim_in && lim_in->max_seconds)
		lim.max_seconds = lim_in->max_seconds;
	else if (secs && strtoul(secs, NULL, 10) > 0 && strtoul(secs, NULL, 10) < 100000)
		lim.max_seconds = (unsigned)strtoul(secs, NULL, 10);
	char hex[HASH_HEX_MAX];
	char buf[96];
	if (!utf8_valid(path)) /* manifest.json records it */
		return error("the build file's path '%s' is not valid UTF-8: rename it", shown(path, buf, sizeof(buf)));
	if (hash_file_hex(HASH_SHA256, path, hex, NULL) < 0)
		return -1;
	memcpy(r->digest, hex, sizeof(r->digest) - 1);
	char *chunk = xasprintf("@%s", path);
	struct sigaction old;
	lua_State *L = new_state(&lim, chunk, path);
	if (!L)
		goto out;
	/* The memory cap, the instruction hook and the watchdog hold until the
	 * state is closed: conversion uses raw access only and calls no
	 * metamethod, but nothing the file left behind runs unlimited. */
	watchdog_arm(path, lim.max_seconds, &old);
	/* stack: sandbox, decls, message handler */
	if (run_file(L, &lim, path, 1, 3) < 0)
		goto close;
	r->path = xstrdup(path);
	r->dir = dir_of(path);
	struct conv_call cc = { path, r, -1 };
	lua_pushcfunction(L, l_convert);
	lua_pushlightuserdata(L, &cc);
	lua_pushvalue(L, 2);
	int st = lua_pcall(L, 2, 0, 0);
	if (st == LUA_ERRMEM || lim.mem_hit)
		error("%s: memory limit of %zu MiB exceeded while reading the build file's declarations", path,
		      lim.cap >> 20);
	else if (st != LUA_OK)
		error("%s: %s", path, lim.instr_hit ? "instruction limit exceeded while reading the declarations"
						    : "cannot read the build file's declarations");
	rc = st == LUA_OK ? cc.rc : -1;
	if (rc == 0)
		matrix_entry_lines(path, r);
close:
	lua_close(L);
	watchdog_disarm(&old);
out:
	free(chunk);
	if (rc < 0)
		release_clear(r);
	return rc;
}

static void set_release(struct mx_set *s)
{
	for (size_t i = 0; i < s->ndims; i++) {
		free(s->dims[i].key);
		strv_release(&s->dims[i].vals);
	}
	free(s->dims);
}

static void spec_release(struct mx_spec *m)
{
	set_release(&m->base);
	for (size_t i = 0; i < m->ninclude; i++)
		set_release(&m->include[i]);
	for (size_t i = 0; i < m->nexclude; i++)
		set_release(&m->exclude[i]);
	free(m->include);
	free(m->exclude);
}

static void images_clear(struct release *r)
{
	for (size_t i = 0; i < r->nimages; i++) {
		struct image_decl *m = &r->images[i];
		free(m->name);
		free(m->base);
		for (size_t j = 0; j < m->nfiles; j++) {
			free(m->files[j].src);
			free(m->files[j].dst);
		}
		free(m->files);
		strv_release(&m->entrypoint);
		strv_release(&m->labels);
		strv_release(&m->platforms);
		strv_release(&m->builds);
	}
	free(r->images);
}

void release_clear(struct release *r)
{
	for (size_t i = 0; i < r->nbuilds; i++) {
		struct build_decl *b = &r->builds[i];
		free(b->name);
		free(b->main);
		free(b->binary);
		free(b->output);
		strv_release(&b->ldflags);
		strv_release(&b->flags);
		strv_release(&b->tags);
		strv_release(&b->env_pass);
		strv_release(&b->env_set);
		strv_release(&b->env_unset);
		strv_release(&b->smoke_args);
		free(b->smoke_expect);
		spec_release(&b->targets);
	}
	for (size_t i = 0; i < r->narchives; i++) {
		struct archive_decl *a = &r->archives[i];
		free(a->format);
		free(a->name);
		strv_release(&a->overrides);
		strv_release(&a->builds);
		for (size_t j = 0; j < a->nfiles; j++) {
			free(a->files[j].src);
			free(a->files[j].dst);
		}
		free(a->files);
	}
	images_clear(r);
	for (size_t i = 0; i < r->npackages; i++)
		package_decl_clear(&r->packages[i]);
	free(r->packages);
	for (size_t i = 0; i < r->nenv_reads; i++) {
		free(r->env_reads[i].name);
		free(r->env_reads[i].value);
	}
	free(r->env_reads);
	free(r->builds);
	free(r->archives);
	free(r->cache.url);
	free(r->cache.token_env);
	free(r->cache.signing_key_env);
	strv_release(&r->cache.trusted_keys);
	free(r->signing.key);
	free(r->signing.password_env);
	free(r->checksums.file);
	free(r->checksums.algorithm);
	free(r->cc.zig);
	free(r->cc.use);
	free(r->cc.libc);
	strv_release(&r->cc.targets);
	strv_release(&r->before);
	strv_release(&r->after);
	free(r->path);
	free(r->dir);
	free(r->project);
	free(r->version);
	free(r->git);
	free(r->source_date_epoch);
	free(r->go_version);
	free(r->sdk_mirror);
	memset(r, 0, sizeof(*r));
}

int release_set_version(struct release *r, const char *version)
{
	struct conv c = { .file = r->path, .line = r->project_line, .what = "project" };
	if (!version_ok(version))
		return conv_error(&c, "the default version '%s' (from git) must be non-empty, without '/', '..', "
				  "spaces, quotes or control characters: set project { version = \"...\" }", version);
	free(r->version);
	r->version = xstrdup(version);
	for (size_t i = 0; i < r->npackages; i++) {
		c.line = r->packages[i].line;
		snprintf(c.what, sizeof(c.what), "package");
		if (package_version(&c, r, &r->packages[i]) < 0)
			return -1;
	}
	return 0;
}

const struct build_decl *release_build(const struct release *r, const char *name)
{
	for (size_t i = 0; i < r->nbuilds; i++)
		if (!strcmp(r->builds[i].name, name))
			return &r->builds[i];
	return NULL;
}
