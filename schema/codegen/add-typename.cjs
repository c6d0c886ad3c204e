// Adds __typename to every selection set of the client documents (and so to the persisted
// manifest's texts): Apollo Client's cache matches fragments by __typename and adds it to what it
// sends; a listed document without it answers fields that the client's cache then drops.
module.exports = require('@graphql-codegen/client-preset').addTypenameSelectionDocumentTransform;
