// Who uses an image: the container service answers, the image remover asks (dockerd refuses to
// remove an image a container was created from; moby daemon/images checkImageDeleteConflict).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace imaged::images {

struct ImageUser {
  std::string container_id;
  bool running = false;
};

class ImageUsers {
 public:
  virtual ~ImageUsers() = default;
  // A container created from image `image_id` ("sha256:…"), a running one when there is one;
  // nullopt when none uses it. Thread safe.
  virtual std::optional<ImageUser> user_of(std::string_view image_id) const = 0;
};

}  // namespace imaged::images
