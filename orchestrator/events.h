/* events.h - machine-readable events and CI integration.
 *
 * With --json, every command writes JSON Lines to stdout: one object per
 * line, each with "event" (its kind), "schema" (1) and "elapsed_s" (since
 * the command started); human output stays on stderr.  The kinds and
 * their fields are documented in README.md, "JSON events"; fields are
 * only ever added.
 *
 * The CI the process runs under is detected from the environment:
 * GITHUB_ACTIONS=true gets ::group::/::error:: workflow commands for
 * failed jobs and a Markdown table of artifacts appended to
 * $GITHUB_STEP_SUMMARY; GITLAB_CI=true gets collapsible log sections.
 * Both go to stderr, so stdout stays pure JSON.  Any CI (CI set) gets no
 * live status line (progress.h).
 */
#ifndef XGO_EVENTS_H
#define XGO_EVENTS_H

#include <jansson.h>
#include <stddef.h>

enum ci_kind { CI_NONE, CI_GITHUB, CI_GITLAB, CI_OTHER };

/* Call once, before any event: json turns the event stream on. */
void events_init(int json);
int events_on(void);
enum ci_kind events_ci(void);

/* Write one event: adds "event", "schema" and "elapsed_s" to fields
 * (stolen), one line, flushed.  No-op unless events are on.  Thread-safe.
 * fields NULL (a json_pack that failed) ends the program with an error:
 * an event never silently lacks its fields.  When stdout cannot be
 * written (its reader closed the pipe: main.c makes that EPIPE, not
 * SIGPIPE) the stream stops with one warning on stderr, and the command
 * goes on. */
void events_emit(const char *kind, json_t *fields);

/* Every later event carries "context": ctx (e.g. verify's "variation");
 * NULL removes it. */
void events_context(const char *ctx);

/* The log tail of a failed step: a collapsible group under a CI that has
 * them, plus an error annotation on GitHub. */
void ci_failure(const char *title, const char *message, const char *tail);

/* Append Markdown to $GITHUB_STEP_SUMMARY (GitHub only; else no-op). */
void ci_summary(const char *markdown);

#endif
