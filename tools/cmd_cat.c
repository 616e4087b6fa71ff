#include "tool.h"
const char cmd_cat_usage[] = "usage: finack cat (not yet)\n";
int cmd_cat(int argc, char **argv) { (void)argc; (void)argv; tool_error("not yet"); return 1; }
