/* progress.h - what the user sees while jobs run.
 *
 * On a terminal (stderr is a TTY, not --quiet, CI unset) a live status line
 * is redrawn four times a second: done/total, failures, and each running
 * job with its elapsed time; finished jobs print a line above it.
 * Elsewhere: one line per finished job, nothing else.  The redraw runs on
 * a thread of its own; progress_hold/progress_release bracket any other
 * output to stderr so that it does not interleave with a redraw.
 */
#ifndef XGO_PROGRESS_H
#define XGO_PROGRESS_H

#include <stddef.h>

struct progress;

/* total jobs; live: draw the status line (see above). */
struct progress *progress_new(size_t total, int live);
/* Whether stderr should get the live view. */
int progress_want_live(void);
void progress_start(struct progress *p, size_t idx, const char *label);
/* Print "[n/total] ok|FAILED label (1.2s)" and drop idx from the running set. */
void progress_done(struct progress *p, size_t idx, int ok, double wall);
void progress_hold(struct progress *p);    /* clears the status line */
void progress_release(struct progress *p);
/* Stops the redraw and clears the line; NULL is fine. */
void progress_free(struct progress *p);

#endif
