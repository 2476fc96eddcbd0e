// imagectl: the companion CLI of imaged (docs/imagectl.md).
#include <iostream>
#include <string>
#include <vector>

#include "client/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return imaged::client::run_cli(args, std::cout, std::cerr, std::cin);
}
