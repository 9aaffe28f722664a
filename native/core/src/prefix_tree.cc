#include "ficus/prefix_tree.h"

#include <algorithm>
#include <string>

namespace ficus {

namespace {

unsigned char byteAt(std::string_view s, size_t i) noexcept {
  return static_cast<unsigned char>(s[i]);
}

}  // namespace

PrefixTree::PrefixTree() : root_(makeNode({}, nullptr)) {}

PrefixTree::~PrefixTree() = default;

std::unique_ptr<PrefixTree::Node> PrefixTree::makeNode(std::string_view name,
                                                       Node* parent) {
  auto node = std::make_unique<Node>();
  node->name.assign(name);
  node->parent = parent;
  return node;
}

PrefixTree::Node* PrefixTree::Node::childAt(unsigned char byte) const noexcept {
  const size_t depth = name.size();
  auto it = std::lower_bound(
      children.begin(), children.end(), byte,
      [depth](const std::unique_ptr<Node>& child, unsigned char b) {
        return byteAt(child->name, depth) < b;
      });
  if (it == children.end() || byteAt((*it)->name, depth) != byte) {
    return nullptr;
  }
  return it->get();
}

std::vector<std::unique_ptr<PrefixTree::Node>>::iterator
PrefixTree::Node::slotFor(unsigned char byte) {
  const size_t depth = name.size();
  return std::lower_bound(
      children.begin(), children.end(), byte,
      [depth](const std::unique_ptr<Node>& child, unsigned char b) {
        return byteAt(child->name, depth) < b;
      });
}

TopicEntry& PrefixTree::insert(std::string_view prefix) {
  Node* node = root_.get();
  while (node->name.size() < prefix.size()) {
    const size_t depth = node->name.size();
    const unsigned char byte = byteAt(prefix, depth);
    auto slot = node->slotFor(byte);
    if (slot == node->children.end() || byteAt((*slot)->name, depth) != byte) {
      Node& leaf = **node->children.insert(slot, makeNode(prefix, node));
      ++nodes_;
      return leaf;
    }
    Node* child = slot->get();
    const size_t limit = std::min(child->name.size(), prefix.size());
    size_t common = depth + 1;
    while (common < limit && child->name[common] == prefix[common]) ++common;
    if (common == child->name.size()) {
      node = child;
      continue;
    }
    // The prefix leaves (or ends inside) the child's edge: a branch point
    // goes between them, and the child keeps its address.
    std::unique_ptr<Node> branch = makeNode(prefix.substr(0, common), node);
    ++nodes_;
    child->parent = branch.get();
    branch->children.push_back(std::move(*slot));
    *slot = std::move(branch);
    Node* middle = slot->get();
    if (common == prefix.size()) return *middle;
    Node& leaf = **middle->children.insert(
        middle->slotFor(byteAt(prefix, common)), makeNode(prefix, middle));
    ++nodes_;
    return leaf;
  }
  return *node;
}

TopicEntry* PrefixTree::find(std::string_view prefix) const noexcept {
  Node* node = root_.get();
  while (node->name.size() < prefix.size()) {
    const size_t depth = node->name.size();
    Node* child = node->childAt(byteAt(prefix, depth));
    if (child == nullptr || child->name.size() > prefix.size() ||
        prefix.substr(depth, child->name.size() - depth) !=
            std::string_view(child->name).substr(depth)) {
      return nullptr;
    }
    node = child;
  }
  return node;
}

void PrefixTree::release(TopicEntry& entry) {
  Node* node = static_cast<Node*>(&entry);
  // Climb while a node has no subscribers and at most one child: a leaf
  // goes, a pass-through node hands its only child to its parent.
  while (node != root_.get() && node->subscribers.empty() &&
         node->children.size() <= 1) {
    Node* parent = node->parent;
    auto slot = parent->slotFor(byteAt(node->name, parent->name.size()));
    if (node->children.empty()) {
      parent->children.erase(slot);  // destroys node
      --nodes_;
      node = parent;
      continue;
    }
    // The child's edge starts with the same byte as node's: same slot.
    std::unique_ptr<Node> child = std::move(node->children.front());
    child->parent = parent;
    *slot = std::move(child);  // destroys node
    --nodes_;
    return;
  }
}

}  // namespace ficus
