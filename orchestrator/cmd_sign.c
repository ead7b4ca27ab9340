/* xgo-build keygen and verify-release: options, then sign.h and
 * relverify.h do the work. */
#define _GNU_SOURCE
#include "cli.h"
#include "relverify.h"
#include "sign.h"
#include "base/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char keygen_help[] =
	"usage: xgo-build keygen [-W] [-p PUB] [-s SEC] [-f]\n"
	"\n"
	"Write an Ed25519 key pair for signing releases, in minisign's formats:\n"
	"`minisign -V -p PUB` verifies what `run` signs with SEC, and `minisign -S\n"
	"-s SEC` can sign with it.  The secret key is encrypted with a password\n"
	"(scrypt, as minisign does) read from $" SIGN_PASSWORD_ENV " or asked\n"
	"on the terminal twice; -W writes it unencrypted.\n"
	"\n"
	"options:\n"
	"  -p PUB    the public key file (default minisign.pub)\n"
	"  -s SEC    the secret key file (default ~/.minisign/minisign.key); keep it\n"
	"            out of the repository\n"
	"  -W        no password: the secret key file is not encrypted\n"
	"  -f        replace existing key files\n"
	"  -h, --help  this text\n"
	"\n"
	"exit codes: 0 written, 2 usage error, a file exists, no password\n";

int cmd_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *pub = "minisign.pub";
	char *sec = NULL;
	int nopw = 0, force = 0, opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:s:Wfh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': pub = optarg; break;
		case 's': free(sec); sec = xstrdup(optarg); break;
		case 'W': nopw = 1; break;
		case 'f': force = 1; break;
		case 'h': fputs(keygen_help, stdout); free(sec); return EXIT_OK;
		default: free(sec); return cli_bad_option("keygen", argv);
		}
	}
	if (optind < argc) {
		free(sec);
		return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
	}
	if (!sec) {
		const char *home = getenv("HOME");
		if (!home || home[0] != '/')
			return error("HOME is not set: give the secret key's path with -s"), EXIT_USAGE;
		char *dir = xasprintf("%s/.minisign", home);
		int rc = mkdir_p(dir, 0700);
		sec = xasprintf("%s/minisign.key", dir);
		free(dir);
		if (rc < 0) {
			free(sec);
			return EXIT_USAGE;
		}
	}
	char *pw = nopw ? NULL : sign_password(NULL, "Password for the new secret key: ", 1);
	int rc = EXIT_USAGE;
	if (!nopw && !pw)
		; /* sign_password said why */
	else if (!nopw && !*pw)
		error("the password is empty: choose one, or -W for an unencrypted key");
	else if (sign_keygen(pub, sec, pw, force) == 0)
		rc = EXIT_OK;
	sign_password_free(pw);
	if (rc == EXIT_OK) {
		struct sign_key k;
		char hex[17] = "";
		if (sign_load_public(pub, &k) == 0) {
			sign_keyid_hex(&k, hex);
			sign_key_release(&k);
		}
		note("wrote the public key %s (key ID %s) and the %ssecret key %s", pub, hex, nopw ? "unencrypted " : "",
		     sec);
	}
	free(sec);
	return rc;
}

static const char verify_release_help[] =
	"usage: xgo-build verify-release DIR|URL --key KEY.pub [--source SRC]\n"
	"\n"
	"Check a signed release (a dist directory, or an http(s) base URL whose\n"
	"files are fetched into a private temporary directory first, each name\n"
	"checked and each file size-bounded) with its public key, step by\n"
	"step on stderr (one 'ok:' line each): the signature of the checksum file\n"
	"(SHA256SUMS.minisig), that every file it lists has that digest, every\n"
	"other .minisig in DIR (archives signed with signing { archives = true }),\n"
	"every signature that manifest.json lists, and, when present, the DSSE\n"
	"envelope provenance.intoto.jsonl: its signature, that it holds\n"
	"provenance.json, and that each subject's sha256 is that of the file it\n"
	"names.\n"
	"\n"
	"Then, with the source checkout (--source, or the current directory when it\n"
	"holds a release.lua): that the provenance's resolved dependencies are the\n"
	"checkout's -- the Go SDK release.lock pins, every go.sum module with its\n"
	"hash, the build file's digest, the source tree digest -- and a rebuild in\n"
	"the checkout that must give the same bytes ('verify --against DIR').\n"
	"\n"
	"options:\n"
	"  -k, --key FILE      the release's public key (minisign format)\n"
	"      --source SRC    the checkout to check the release against\n"
	"      --no-source     check the release alone, even in a checkout\n"
	"      --no-rebuild    check the checkout's pins and digests, do not rebuild\n"
	"      --sdk-mirror URL, --offline   for the rebuild's Go SDK, as for run\n"
	"  -h, --help          this text\n"
	"\n"
	"exit codes: 0 verified, 3 a signature, digest, subject, pin or rebuilt\n"
	"file does not match (the message names the file and the field), 2 usage\n"
	"error or an unreadable key, release or checkout, 1 or 4 the rebuild failed\n";

int cmd_verify_release(int argc, char **argv)
{
	enum { O_SOURCE = 256, O_NOSOURCE, O_NOREBUILD, O_MIRROR, O_OFFLINE };
	static const struct option longopts[] = {
		{ "key", required_argument, 0, 'k' },
		{ "source", required_argument, 0, O_SOURCE },
		{ "no-source", no_argument, 0, O_NOSOURCE },
		{ "no-rebuild", no_argument, 0, O_NOREBUILD },
		{ "sdk-mirror", required_argument, 0, O_MIRROR },
		{ "offline", no_argument, 0, O_OFFLINE },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct relverify_opts o = { .rebuild = 1 };
	int opt, nosource = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "k:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k': o.key = optarg; break;
		case O_SOURCE: o.source = optarg; break;
		case O_NOSOURCE: nosource = 1; break;
		case O_NOREBUILD: o.rebuild = 0; break;
		case O_MIRROR: o.mirror = optarg; break;
		case O_OFFLINE: o.offline = 1; break;
		case 'h': fputs(verify_release_help, stdout); return EXIT_OK;
		default: return cli_bad_option("verify-release", argv);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("verify-release", "give one release directory or URL");
	if (!o.key)
		return cli_usage_error("verify-release", "--key KEY.pub is required");
	if (nosource && o.source)
		return cli_usage_error("verify-release", "give --source or --no-source, not both");
	if (!o.source && !nosource && access("release.lua", F_OK) == 0)
		o.source = ".";
	o.release = argv[optind];
	return relverify_run(&o);
}
