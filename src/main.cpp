#include "cli/app.hpp"

int main(int argc, char** argv) { return otaflash::cli::run(argc, argv); }
