#include <cstdio>
int main() { std::puts("imaged " IMAGED_VERSION); }
