/* main.c - idnode: the command-line tool of the idnode secondary node. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cmd_t;

static const cmd_t cmds[] = {
	{ "resolve", cmd_resolve, "resolve a handle over UDP or TCP and print its values" },
	{ "load", cmd_load, "bulk-load identifiers (JSON lines) straight into a store" },
	{ "keygen", cmd_keygen, "generate an RSA key pair and print its HS_PUBKEY value" },
	{ "create", cmd_admin, "create a handle with values (authenticated)" },
	{ "add", cmd_admin, "add values to a handle" },
	{ "modify", cmd_admin, "replace values of a handle" },
	{ "remove", cmd_admin, "remove values of a handle by index" },
	{ "delete", cmd_admin, "delete a handle" },
	{ "list", cmd_admin, "list the handles under a prefix" },
	{ "home", cmd_admin, "make the node responsible for a prefix" },
	{ "unhome", cmd_admin, "stop the node answering for a prefix" },
	{ "list-homed", cmd_admin, "list the prefixes the node is responsible for" },
	{ "import", cmd_import, "bulk-create identifiers (JSON lines or CSV) over the network" },
	{ "prefix", cmd_prefix, "create (node admin) or show an enterprise prefix" },
	{ "backup", cmd_backup, "copy the store (consistent, compacted) and its keys while the node runs" },
	{ "restore", cmd_restore, "bring a backup back into a data directory (node stopped)" },
	{ "report", cmd_report, "volumes (resolutions, registrations, enterprises) vs the thresholds" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: idnode COMMAND [OPTIONS] [ARGS]\n"
		     "\n"
		     "Command-line tool of idnode, the industrial internet identifier\n"
		     "resolution secondary node.\n"
		     "\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %-11s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out, "\n"
		     "Run 'idnode COMMAND --help' for the options of a command.\n"
		     "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("idnode 0.1.0\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "idnode: unknown command '%s' (see idnode --help)\n", argv[1]);
	return 2;
}
