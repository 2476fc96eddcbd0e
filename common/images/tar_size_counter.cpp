#include "common/images/tar_size_counter.h"

#include <algorithm>
#include <limits>
#include <string_view>

namespace imaged::images {

namespace {

constexpr size_t kBlock = 512;
constexpr int64_t kMaxSpecial = 1 << 20;  // PAX and GNU long-name records (Go: 1 MiB)

uint8_t u8(std::byte b) { return static_cast<uint8_t>(b); }

// Field offsets of a ustar/GNU/V7 header block.
struct Field {
  size_t at, len;
};
constexpr Field kName{0, 100}, kSize{124, 12}, kChksum{148, 8}, kLinkname{157, 100}, kMagic{257, 8},
    kPrefix{345, 155}, kStarPrefix{345, 131}, kStarTrailer{508, 4};
constexpr size_t kTypeflag = 156;
constexpr char kUstarMagic[8] = {'u', 's', 't', 'a', 'r', '\0', '0', '0'};

std::string_view view(std::span<const std::byte> block, Field f) {
  return {reinterpret_cast<const char*>(block.data()) + f.at, f.len};
}

// A NUL-terminated string field.
std::string_view text(std::span<const std::byte> block, Field f) {
  std::string_view s = view(block, f);
  return s.substr(0, s.find('\0'));
}

// Go's parseOctal: spaces and NULs trimmed, then octal digits up to a NUL.
std::optional<int64_t> parse_octal(std::string_view s) {
  const auto first = s.find_first_not_of(std::string_view(" \0", 2));
  if (first == std::string_view::npos) return 0;
  s = s.substr(first, s.find_last_not_of(std::string_view(" \0", 2)) - first + 1);
  s = s.substr(0, s.find('\0'));
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '7' || v > (std::numeric_limits<int64_t>::max() >> 3)) return std::nullopt;
    v = v * 8 + (c - '0');
  }
  return v;
}

// Go's parseNumeric: base-256 (high bit of the first byte set) or octal. Negative → nullopt.
std::optional<int64_t> parse_numeric(std::string_view s) {
  if (s.empty() || !(static_cast<uint8_t>(s[0]) & 0x80)) return parse_octal(s);
  if (static_cast<uint8_t>(s[0]) & 0x40) return std::nullopt;  // negative
  uint64_t v = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (i == 0) c &= 0x7f;
    if (v >> 55) return std::nullopt;  // would overflow int64
    v = v << 8 | c;
  }
  return static_cast<int64_t>(v);
}

std::optional<int64_t> parse_decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (std::numeric_limits<int64_t>::max() - 9) / 10)
      return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool checksum_ok(std::span<const std::byte> block) {
  const auto want = parse_octal(view(block, kChksum));
  if (!want) return false;
  int64_t unsigned_sum = 0, signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    const uint8_t c = (i >= kChksum.at && i < kChksum.at + kChksum.len) ? ' ' : u8(block[i]);
    unsigned_sum += c;
    signed_sum += static_cast<int8_t>(c);
  }
  return *want == unsigned_sum || *want == signed_sum;
}

// Go's filepath.Clean relative to the root: "./a//b/../c/" → "a/c"; ".." stops at the root.
std::string clean_path(std::string_view p) {
  std::string out;
  while (!p.empty()) {
    const size_t end = std::min(p.find('/'), p.size());
    const std::string_view part = p.substr(0, end);
    p.remove_prefix(std::min(end + 1, p.size()));
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      const size_t slash = out.rfind('/');
      out.resize(slash == std::string::npos ? 0 : slash);
      continue;
    }
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

uint64_t path_key(const std::string& clean) { return std::hash<std::string>{}(clean); }

// Zero bytes that pad an entry's `n` data bytes to a whole block.
int64_t padding(int64_t n) {
  return (static_cast<int64_t>(kBlock) - n % static_cast<int64_t>(kBlock)) %
         static_cast<int64_t>(kBlock);
}

// Types whose size field Go ignores (no data follows the header).
bool header_only(char type) { return type >= '1' && type <= '6'; }

}  // namespace

void TarSizeCounter::fail_with(std::string message) {
  state_ = State::Failed;
  error_ = std::move(message);
}

void TarSizeCounter::update(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    size_t n = 0;
    switch (state_) {
      case State::End:
      case State::Failed:
        return;
      case State::Skip:
        n = static_cast<size_t>(std::min<int64_t>(skip_, static_cast<int64_t>(bytes.size())));
        skip_ -= static_cast<int64_t>(n);
        if (skip_ == 0) state_ = State::Header;
        break;
      case State::Special:
        n = static_cast<size_t>(
            std::min<int64_t>(special_left_, static_cast<int64_t>(bytes.size())));
        special_.append(reinterpret_cast<const char*>(bytes.data()), n);
        special_left_ -= static_cast<int64_t>(n);
        if (special_left_ == 0) on_special_done();
        break;
      case State::Header:
        n = std::min(kBlock - block_.size(), bytes.size());
        block_.insert(block_.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
        if (block_.size() == kBlock) {
          on_header();
          block_.clear();
        }
        break;
    }
    bytes = bytes.subspan(n);
  }
}

void TarSizeCounter::skip(int64_t bytes) {
  skip_ = bytes;
  state_ = skip_ > 0 ? State::Skip : State::Header;
}

void TarSizeCounter::on_header() {
  const std::span<const std::byte> b(block_);
  if (std::all_of(b.begin(), b.end(), [](std::byte c) { return c == std::byte{0}; })) {
    if (zero_block_) state_ = State::End;
    zero_block_ = true;
    return;
  }
  if (zero_block_) return fail_with("tar: a zero block followed by a header");
  if (!checksum_ok(b)) return fail_with("tar: invalid header checksum");
  const char type = static_cast<char>(b[kTypeflag]);
  auto size = parse_numeric(view(b, kSize));
  if (!size) return fail_with("tar: invalid size field");
  if (next_size_) size = next_size_;
  if (*size > std::numeric_limits<int64_t>::max() - static_cast<int64_t>(kBlock))
    return fail_with("tar: entry size out of range");

  switch (type) {
    case 'x':
    case 'L':
    case 'K':
      if (*size > kMaxSpecial) return fail_with("tar: PAX or long-name record over 1 MiB");
      special_type_ = type;
      special_.clear();
      special_left_ = *size;
      state_ = State::Special;
      if (special_left_ == 0) on_special_done();
      return;
    case 'g':  // global PAX header: Go returns it as an entry, untar ignores it
      return skip(*size + padding(*size));
    case '0':
    case '\0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
      break;
    default:
      return fail_with(std::string("tar: unsupported entry type '") + type + "'");
  }

  std::string name;
  if (next_path_) {
    name = std::move(*next_path_);
  } else {
    name = text(b, kName);
    const std::string_view magic = view(b, kMagic);
    if (magic == std::string_view(kUstarMagic, sizeof kUstarMagic)) {
      const bool star = view(b, kStarTrailer) == std::string_view("tar\0", 4);
      const std::string_view prefix = text(b, star ? kStarPrefix : kPrefix);
      if (!prefix.empty()) name = std::string(prefix) + "/" + name;
    }
  }
  const std::string link = next_link_ ? std::move(*next_link_) : std::string(text(b, kLinkname));
  next_path_.reset();
  next_link_.reset();
  next_size_.reset();

  add_entry(type, name, link, *size);
  const int64_t data = header_only(type) ? 0 : *size;
  skip(data + padding(data));
}

void TarSizeCounter::on_special_done() {
  const int64_t length = static_cast<int64_t>(special_.size());
  if (special_type_ == 'x') {
    // Records "<length> <key>=<value>\n".
    std::string_view rest = special_;
    while (!rest.empty()) {
      const size_t space = rest.find(' ');
      const auto parsed = parse_decimal(rest.substr(0, space));
      const size_t len = parsed ? static_cast<size_t>(*parsed) : 0;
      if (space == std::string_view::npos || len <= space + 1 || len > rest.size() ||
          rest[len - 1] != '\n')
        return fail_with("tar: malformed PAX record");
      const std::string_view record = rest.substr(space + 1, len - space - 2);
      rest.remove_prefix(len);
      const size_t eq = record.find('=');
      if (eq == std::string_view::npos) return fail_with("tar: malformed PAX record");
      const std::string_view key = record.substr(0, eq), value = record.substr(eq + 1);
      if (key == "path") {
        next_path_ = std::string(value);
      } else if (key == "linkpath") {
        next_link_ = std::string(value);
      } else if (key == "size") {
        next_size_ = parse_decimal(value);
        if (!next_size_) return fail_with("tar: invalid PAX size");
      }
    }
  } else {
    std::string value = special_.substr(0, special_.find('\0'));
    (special_type_ == 'L' ? next_path_ : next_link_) = std::move(value);
  }
  special_.clear();
  special_.shrink_to_fit();
  skip(padding(length));
}

void TarSizeCounter::add_entry(char type, const std::string& name, const std::string& link,
                               int64_t size) {
  const std::string path = clean_path(name);
  const std::string_view base = std::string_view(path).substr(path.rfind('/') + 1);
  if (base.starts_with(".wh.")) return;  // whiteout: a 0/0 char device or an xattr
  const uint64_t key = path_key(path);
  auto new_inode = [&](int64_t bytes) -> std::optional<uint32_t> {
    if (bytes <= 0) return std::nullopt;
    inodes_.push_back(Inode{bytes, 0});
    return static_cast<uint32_t>(inodes_.size() - 1);
  };
  switch (type) {
    case '0':
      return bind(key, new_inode(size));
    case '\0':  // old-style regular file; a trailing slash makes it a directory
      return bind(key, new_inode(name.ends_with('/') ? 0 : size));
    case '2':
      return bind(key, new_inode(static_cast<int64_t>(link.size())));
    case '1': {
      const auto target = paths_.find(path_key(clean_path(link)));
      if (target == paths_.end()) return bind(key, std::nullopt);
      return bind(key, target->second);
    }
    default:  // directories, devices, fifos
      return bind(key, std::nullopt);
  }
}

void TarSizeCounter::bind(uint64_t path, std::optional<uint32_t> inode) {
  if (inode) {
    Inode& node = inodes_[*inode];
    if (node.links++ == 0) total_ += node.size;
  }
  auto it = paths_.find(path);
  if (it != paths_.end()) {
    Inode& old = inodes_[it->second];
    if (--old.links == 0) total_ -= old.size;
    if (inode) {
      it->second = *inode;
    } else {
      paths_.erase(it);
    }
  } else if (inode) {
    paths_.emplace(path, *inode);
  }
}

Result<int64_t> TarSizeCounter::finish() const {
  switch (state_) {
    case State::Failed:
      return fail(Errc::InvalidArgument, error_);
    case State::Header:
      if (!block_.empty())
        return fail(Errc::InvalidArgument, "tar: the stream ends inside a header");
      return total_;
    case State::Special:
    case State::Skip:
      return fail(Errc::InvalidArgument, "tar: the stream ends inside an entry");
    case State::End:
      return total_;
  }
  return total_;
}

void TarSizeCounter::reset() { *this = TarSizeCounter(); }

}  // namespace imaged::images
