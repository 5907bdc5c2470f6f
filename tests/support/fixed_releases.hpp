#pragma once
// A fixed list of releases for the MQTT OTA responder and server in tests (the serve catalog's
// stand-in).

#include <otaflash/proto/mqtt_ota/responder.hpp>
#include <otaflash/util/crc32.hpp>

#include <string>
#include <vector>

namespace otaflash::test {

class fixed_releases final : public proto::mqtt_ota::release_lookup {
public:
    void add(std::string title, std::string version, bytes image) {
        entries_.push_back({std::move(title), std::move(version), std::move(image)});
    }
    std::optional<proto::mqtt_ota::release_view> find(std::string_view title) const override {
        for (const auto& e : entries_)
            if (e.title == title) return view(e);
        return std::nullopt;
    }
    std::optional<proto::mqtt_ota::release_view> only() const override {
        if (entries_.size() != 1) return std::nullopt;
        return view(entries_.front());
    }

private:
    struct entry {
        std::string title, version;
        bytes image;
    };
    static proto::mqtt_ota::release_view view(const entry& e) { return {e.title, e.version, e.image, crc32(e.image)}; }
    std::vector<entry> entries_;
};

}  // namespace otaflash::test
