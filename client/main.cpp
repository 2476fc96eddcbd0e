#include <cstdio>
int main() { std::puts("imagectl " IMAGED_VERSION); }
