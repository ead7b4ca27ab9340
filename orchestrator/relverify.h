/* relverify.h - `xgo-build verify-release DIR|URL --key KEY.pub`: check what a
 * signed release claims, with nothing but the release and its public key.
 *
 * Steps, each reported on stderr: the checksum file's .minisig (its name
 * and algorithm from manifest.json when there is one, else SHA256SUMS);
 * every file the checksum file lists against its digest; every *.minisig
 * in DIR against the file it is named for; every signature manifest.json
 * lists is present; and, when DIR has provenance.intoto.jsonl, its DSSE
 * signature, that its payload is provenance.json byte for byte (when that
 * is published too), and every subject's sha256 against the file it names.
 * With a source checkout: relsource.h's checks of the provenance's
 * resolved dependencies, then (unless told not to) a rebuild in the
 * checkout compared with the release (verify.h's verify_against).
 * Every name read from the release passes path.h.  All steps run (the
 * rebuild only when the rest verified); each failure is one error naming
 * the file.  manifest.json itself is not
 * signed: it only says where to look.
 */
#ifndef XGO_RELVERIFY_H
#define XGO_RELVERIFY_H

#define RELVERIFY_PROVENANCE "provenance.json"
#define RELVERIFY_ENVELOPE "provenance.intoto.jsonl"

struct relverify_opts {
	const char *release; /* the release directory */
	const char *key;     /* the public key file */
	const char *source;  /* the checkout to check it against, or NULL */
	int rebuild;         /* with source: rebuild there and compare (verify --against) */
	int offline;         /* for that rebuild's SDK */
	const char *mirror;
};

/* EXIT_OK when every step passed, EXIT_MISMATCH when one did not,
 * EXIT_USAGE when the release, the source or the key cannot be read; a
 * rebuild that fails gives verify's exit code (1, 4). */
int relverify_run(const struct relverify_opts *o);

#endif
