#pragma once
// The wildcard half of a worker's TopicIndex: the prefixes its connections
// subscribed to with a trailing '*', in a radix tree (path-compressed
// trie). Loop thread only.
//
// Why a tree and not one hash lookup per prefix length: an event's topic
// is matched against every subscribed prefix in one walk down the tree,
// O(topic length), however many prefixes and lengths clients picked
// (per-length lookups would hash the topic once per distinct length, up to
// max_topic_bytes times). Branches are found by binary search on the first
// byte of their edge, so a node with 256 children costs 8 comparisons.
// A tree of n prefixes has at most 2n nodes: its memory grows with what
// clients subscribed to, like the exact topics' table, never with the
// bytes of a trie per character.
//
// Entries have stable addresses: subscribers point at them. A split puts a
// new node above an existing one; a removal links a child to its
// grandparent; neither moves a node that has subscribers.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "ficus/topic_table.h"

namespace ficus {

class PrefixTree {
 public:
  PrefixTree();
  ~PrefixTree();
  PrefixTree(const PrefixTree&) = delete;
  PrefixTree& operator=(const PrefixTree&) = delete;

  // The entry of `prefix` (its name is the prefix), created if absent.
  TopicEntry& insert(std::string_view prefix);
  // nullptr when `prefix` has no node (a node may exist with no subscribers
  // while it is a branch point of others).
  TopicEntry* find(std::string_view prefix) const noexcept;
  // Call when `entry` (of this tree) has lost its last subscriber: removes
  // its node and any branch point left without a purpose.
  void release(TopicEntry& entry);

  // Calls f(const TopicEntry&) for every subscribed prefix of `topic`,
  // shortest first. Allocates nothing.
  template <typename F>
  void forEachPrefixOf(std::string_view topic, F&& f) const {
    const Node* node = root_.get();
    for (;;) {
      if (!node->subscribers.empty()) f(static_cast<const TopicEntry&>(*node));
      const size_t depth = node->name.size();
      if (depth == topic.size()) return;
      const Node* child =
          node->childAt(static_cast<unsigned char>(topic[depth]));
      if (child == nullptr || child->name.size() > topic.size()) return;
      // The child's first byte matched; compare the rest of its edge only.
      if (std::memcmp(child->name.data() + depth + 1, topic.data() + depth + 1,
                      child->name.size() - depth - 1) != 0) {
        return;
      }
      node = child;
    }
  }

  // No prefix is subscribed: the index skips the walk altogether.
  bool empty() const noexcept {
    return root_->children.empty() && root_->subscribers.empty();
  }
  size_t nodeCount() const noexcept { return nodes_; }

 private:
  struct Node : TopicEntry {
    Node* parent = nullptr;
    // Sorted by the first byte of their edge, name[this->name.size()].
    std::vector<std::unique_ptr<Node>> children;

    Node* childAt(unsigned char byte) const noexcept;
    // Where a child whose edge starts with `byte` is or would go.
    std::vector<std::unique_ptr<Node>>::iterator slotFor(unsigned char byte);
  };

  std::unique_ptr<Node> makeNode(std::string_view name, Node* parent);

  std::unique_ptr<Node> root_;  // the empty prefix ("*")
  size_t nodes_ = 1;
};

}  // namespace ficus
