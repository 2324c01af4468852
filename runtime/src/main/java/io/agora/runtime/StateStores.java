package io.agora.runtime;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The state stores of the market's streams apps: persistent (RocksDB), changelogged and cached.
 * The cache keeps only a key's last value until the next commit, so a job whose state is written
 * a dozen times between two commits costs one changelog record, not a dozen; reads see the
 * cached value, and exactly-once commits flush the cache inside the same transaction.
 */
public final class StateStores {
    private StateStores() {
    }

    public static <K, V> StoreBuilder<KeyValueStore<K, V>> keyValue(String name, Serde<K> keys, Serde<V> values) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), keys, values).withCachingEnabled();
    }
}
