#include "tool.h"
const char cmd_http_usage[] = "usage: finack http (not yet)\n";
int cmd_http(int argc, char **argv) { (void)argc; (void)argv; tool_error("not yet"); return 1; }
