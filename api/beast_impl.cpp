// The single translation unit that compiles Asio and Beast (separate compilation), so that the
// rest of api/ and daemon/ include only their declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
