/* relverify.h - `xgo-build verify-release DIR --key KEY.pub`: check what a
 * signed release claims, with nothing but the release and its public key.
 *
 * Steps, each reported on stderr: the checksum file's .minisig (its name
 * and algorithm from manifest.json when there is one, else SHA256SUMS);
 * every file the checksum file lists against its digest; every *.minisig
 * in DIR against the file it is named for; every signature manifest.json
 * lists is present; and, when DIR has provenance.intoto.jsonl, its DSSE
 * signature, that its payload is provenance.json byte for byte (when that
 * is published too), and every subject's sha256 against the file it names.
 * Every name read from the release passes path.h.  All steps run; each
 * failure is one error naming the file.  manifest.json itself is not
 * signed: it only says where to look.
 */
#ifndef XGO_RELVERIFY_H
#define XGO_RELVERIFY_H

#define RELVERIFY_PROVENANCE "provenance.json"
#define RELVERIFY_ENVELOPE "provenance.intoto.jsonl"

/* EXIT_OK when every step passed, EXIT_MISMATCH when one did not,
 * EXIT_USAGE when dir or the key cannot be read. */
int relverify_run(const char *dir, const char *key_path);

#endif
